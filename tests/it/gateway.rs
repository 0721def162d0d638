//! Spin / wasi:http readiness: a component of the world
//! `pgrest:gateway/http-gateway` (wit/gateway) composes with the translator
//! component the way `wac plug` does, and the composition is a valid
//! component whose translator import is satisfied.

use std::path::Path;

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};
use wasmtime::component::Component;
use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

const API: &str = "pgrest:translator/api@0.2.0";
const HANDLER: &str = "wasi:http/incoming-handler@0.2.12";

/// A minimal component of the gateway world (its functions only trap): all
/// that composition looks at is its imports and exports.
fn gateway() -> Vec<u8> {
    let mut resolve = Resolve::default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/gateway");
    let (package, _) = resolve.push_dir(&dir).expect("wit/gateway parses");
    let world = resolve
        .select_world(&[package], Some("http-gateway"))
        .expect("the http-gateway world");
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("component metadata");
    ComponentEncoder::default()
        .module(&module)
        .expect("core module")
        .validate(true)
        .encode()
        .expect("gateway component")
}

/// What `wac plug --plug translator.wasm gateway.wasm` produces.
fn plug(gateway: Vec<u8>, translator: Vec<u8>) -> Vec<u8> {
    let mut graph = CompositionGraph::new();
    let socket = Package::from_bytes("pgrest:gateway", None, gateway, graph.types_mut())
        .expect("gateway package");
    let socket = graph.register_package(socket).expect("gateway registers");
    let plug = Package::from_bytes("pgrest:translator", None, translator, graph.types_mut())
        .expect("translator package");
    let plug = graph.register_package(plug).expect("translator registers");
    // Instantiates both, wires the translator's exports to the gateway's
    // matching imports, and exports the gateway's exports.
    wac_graph::plug(&mut graph, vec![plug], socket).expect("the translator plugs in");
    // Encoding validates the result (wasmparser).
    graph
        .encode(EncodeOptions::default())
        .expect("a valid composition")
}

fn imports_and_exports(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let engine = wasmtime::Engine::new(&wasmtime::Config::new()).expect("engine");
    let component = Component::new(&engine, bytes).expect("wasmtime accepts the component");
    let ty = component.component_type();
    let names = |items: &mut dyn Iterator<Item = &str>| items.map(str::to_string).collect();
    (
        names(&mut ty.imports(&engine).map(|(n, _)| n)),
        names(&mut ty.exports(&engine).map(|(n, _)| n)),
    )
}

#[test]
fn an_http_gateway_composes_with_the_translator() {
    let gateway = gateway();
    let (imports, _) = imports_and_exports(&gateway);
    assert!(imports.iter().any(|i| i == API), "{imports:?}");

    let translator =
        std::fs::read(pgrest_host::component::COMPONENT_PATH).expect("the translator component");
    let composed = plug(gateway, translator);
    let (imports, exports) = imports_and_exports(&composed);
    assert!(
        !imports.iter().any(|i| i.starts_with("pgrest:")),
        "{imports:?}"
    );
    assert!(
        imports.iter().all(|i| i.starts_with("wasi:")),
        "{imports:?}"
    );
    assert!(
        imports.iter().any(|i| i == "wasi:http/types@0.2.12"),
        "{imports:?}"
    );
    assert_eq!(exports, [HANDLER]);
}
