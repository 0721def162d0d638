//! Certificates for a cluster started with TLS (feature `pki`, for tests):
//! a CA, a server certificate for `localhost` signed by it, and a second,
//! unrelated CA.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use crate::ServerTls;

pub struct Pki {
    /// The CA that signed `server`, PEM-encoded.
    pub ca_pem: String,
    /// A CA that signed nothing here.
    pub other_ca_pem: String,
    pub server: ServerTls,
}

impl Pki {
    /// Fresh keys and certificates.
    pub fn generate() -> Result<Pki, rcgen::Error> {
        let ca = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            CertifiedIssuer::self_signed(params, KeyPair::generate()?)
        };
        let (ca_cert, other) = (ca("pgrest test CA")?, ca("untrusted CA")?);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &*ca_cert)?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            other_ca_pem: other.pem(),
            server: ServerTls {
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            },
        })
    }
}
