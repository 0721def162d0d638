//! The translator component under wasmtime: compiled once (with an on-disk
//! cache of the native code), then a pool of ready instances per schema
//! generation, each holding a loaded `engine`.
//!
//! Calls are synchronous and short; an instance is taken from the pool for
//! one call and never held across an `.await`. A trap poisons an instance:
//! it is dropped and the next call builds a fresh one. Linear memory never
//! shrinks: an instance that grew more than `RETIRE_GROWTH` past its size
//! after loading (a large request body passed through it) is dropped too,
//! so the memory goes back to the system.
//!
//! Nothing a request makes the guest do can take the process down:
//! - stack: the guest has `MAX_WASM_STACK`, and each call runs where at
//!   least `NATIVE_STACK` of native stack is left (on a fresh segment when
//!   the caller's thread has less), so an overflow is wasmtime's trap, never
//!   the thread's guard page (which aborts);
//! - CPU: a call for a request traps once `server-translator-timeout` has
//!   passed (epoch interruption: one ticker thread per engine, a counter
//!   check at function entries and loop heads in the compiled code);
//! - memory: `MAX_MEMORY_BYTES` per instance.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{
    Config, Engine, EngineWeak, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap,
};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

use crate::parse_errors::RawAnswers;

wasmtime::component::bindgen!({ world: "translator", path: "wit" });

pub use exports::pgrest::translator::api as wit;

/// Where host/build.rs put the component: what this host embeds, and what
/// other hosts (tests/hosts/node) transpile.
pub const COMPONENT_PATH: &str = env!("PGREST_TRANSLATOR_WASM");

static COMPONENT: &[u8] = include_bytes!(env!("PGREST_TRANSLATOR_WASM"));

/// Guest memory cap per instance: generous for large request bodies, but a
/// runaway guest cannot take the host down.
const MAX_MEMORY_BYTES: usize = 1 << 30;

/// Growth of an instance's memory past its loaded size beyond which the
/// instance is retired after its call: a few times what planning a large
/// ordinary request takes, well under a bulk load's body.
const RETIRE_GROWTH: usize = 64 << 20;

/// Guest stack per call. The translator bounds its own recursion (nesting
/// of 64 levels in the query grammar, 128 in JSON): the deepest request it
/// accepts uses well under a tenth of this.
const MAX_WASM_STACK: usize = 1 << 20;

/// Native stack a call needs: wasmtime checks only the guest's frames
/// against `MAX_WASM_STACK`, so the thread must also hold the host frames
/// below and above them (lifting and lowering, WASI). tokio's worker threads
/// have 2 MiB by default, the binary's 8 MiB (`main.rs`); an embedder's
/// thread with less left gets a fresh segment for the call.
const NATIVE_STACK: usize = MAX_WASM_STACK + (512 << 10);

/// The epoch ticker's period: the granularity of the per-call deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A deadline no call reaches: for the calls that are not a request's
/// (configuration, schema cache load), whose cost the operator controls.
/// Half the range, because wasmtime adds it to the current epoch.
const NO_DEADLINE: u64 = u64::MAX / 2;

pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryLimits,
}

/// `StoreLimits`, counting the bytes of linear memory it let the instance
/// have.
struct MemoryLimits {
    limits: StoreLimits,
    memory_bytes: usize,
}

impl ResourceLimiter for MemoryLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes += desired.saturating_sub(current);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The compiled component, ready to instantiate.
pub struct Compiled {
    engine: Engine,
    pre: TranslatorPre<State>,
    /// Instances dropped for their memory, over the process's life.
    retired: AtomicU64,
}

impl Compiled {
    pub fn new() -> wasmtime::Result<Arc<Compiled>> {
        Compiled::with_wasm_stack(MAX_WASM_STACK)
    }

    /// With a guest stack of `bytes` (at most `MAX_WASM_STACK`): tests
    /// overflow a small one with a request the translator accepts.
    pub fn with_wasm_stack(bytes: usize) -> wasmtime::Result<Arc<Compiled>> {
        let mut config = Config::new();
        config.max_wasm_stack(bytes.min(MAX_WASM_STACK));
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let component = load_cached(&engine)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let pre = TranslatorPre::new(linker.instantiate_pre(&component)?)?;
        spawn_epoch_ticker(engine.weak());
        Ok(Arc::new(Compiled {
            engine,
            pre,
            retired: AtomicU64::new(0),
        }))
    }

    /// A fresh instance, for the engine-less exports.
    pub fn instantiate(&self) -> wasmtime::Result<(Store<State>, Translator)> {
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: MemoryLimits {
                limits: StoreLimitsBuilder::new()
                    .memory_size(MAX_MEMORY_BYTES)
                    .build(),
                memory_bytes: 0,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(NO_DEADLINE);
        let bindings = on_native_stack(|| self.pre.instantiate(&mut store))?;
        Ok((store, bindings))
    }

    pub fn resolve_config(
        &self,
        file_text: Option<&str>,
        env: &[(String, String)],
        db_settings: &[(String, String)],
        files: &[(String, String)],
    ) -> wasmtime::Result<Result<wit::ConfigResolution, String>> {
        let (mut store, b) = self.instantiate()?;
        on_native_stack(|| {
            b.pgrest_translator_api().call_resolve_config(
                &mut store,
                file_text,
                env,
                db_settings,
                files,
            )
        })
    }

    pub fn dump_config(&self, config: &[u8]) -> wasmtime::Result<Result<String, String>> {
        let (mut store, b) = self.instantiate()?;
        on_native_stack(|| {
            b.pgrest_translator_api()
                .call_dump_config(&mut store, config)
        })
    }

    pub fn config_warnings(&self, config: &[u8]) -> wasmtime::Result<Result<Vec<String>, String>> {
        let (mut store, b) = self.instantiate()?;
        on_native_stack(|| {
            b.pgrest_translator_api()
                .call_config_warnings(&mut store, config)
        })
    }

    pub fn db_config_statements(
        &self,
        config: &[u8],
    ) -> wasmtime::Result<Result<Vec<wit::Statement>, String>> {
        let (mut store, b) = self.instantiate()?;
        on_native_stack(|| {
            b.pgrest_translator_api()
                .call_db_config_statements(&mut store, config)
        })
    }

    pub fn introspection(
        &self,
        config: &[u8],
        server_version_num: u32,
    ) -> wasmtime::Result<Result<Vec<wit::Statement>, String>> {
        let (mut store, b) = self.instantiate()?;
        on_native_stack(|| {
            b.pgrest_translator_api()
                .call_introspection(&mut store, config, server_version_num)
        })
    }

    /// Instances retired for their memory (see `RETIRE_GROWTH`).
    pub fn instances_retired(&self) -> u64 {
        self.retired.load(Ordering::Relaxed)
    }
}

/// One instance with its loaded engine.
pub struct Instance {
    store: Store<State>,
    bindings: Translator,
    engine: ResourceAny,
    /// Linear memory once the engine was loaded.
    loaded_bytes: usize,
    deadline: Deadline,
}

impl Instance {
    pub fn cors(
        &mut self,
        method: &str,
        headers: &[(String, String)],
    ) -> wasmtime::Result<wit::CorsAnswer> {
        let engine = self.engine;
        self.call(0, |api, store| {
            api.call_cors(store, engine, method, headers)
        })
    }

    pub fn verify_token(&mut self, authorization: &str) -> wasmtime::Result<wit::TokenCheck> {
        let engine = self.engine;
        self.call(0, |api, store| {
            api.call_verify_token(store, engine, authorization)
        })
    }

    pub fn plan(
        &mut self,
        req: &wit::HttpRequest,
        claims: Option<&wit::Verified>,
        now: i64,
    ) -> wasmtime::Result<wit::Outcome> {
        let engine = self.engine;
        let input = req.body.len() + req.query.len();
        self.call(input, |api, store| {
            api.call_plan(store, engine, req, claims, now)
        })
    }

    pub fn screen(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        claims: Option<&wit::Verified>,
        now: i64,
    ) -> wasmtime::Result<Option<wit::Reply>> {
        let engine = self.engine;
        self.call(0, |api, store| {
            api.call_screen(store, engine, method, path, headers, claims, now)
        })
    }

    pub fn respond(
        &mut self,
        context: &[u8],
        results: &[wit::Rows],
    ) -> wasmtime::Result<wit::Answer> {
        let engine = self.engine;
        let input = results
            .iter()
            .flatten()
            .flatten()
            .map(|cell| cell.as_ref().map_or(0, String::len))
            .sum();
        self.call(input, |api, store| {
            api.call_respond(store, engine, context, results)
        })
    }

    pub fn respond_error(
        &mut self,
        context: &[u8],
        err: &wit::DbError,
    ) -> wasmtime::Result<wit::HttpResponse> {
        let engine = self.engine;
        self.call(0, |api, store| {
            api.call_respond_error(store, engine, context, err)
        })
    }

    pub fn dump_schema(&mut self) -> wasmtime::Result<String> {
        let engine = self.engine;
        self.call(0, |api, store| api.call_dump_schema(store, engine))
    }

    fn memory_bytes(&self) -> usize {
        self.store.data().limits.memory_bytes
    }

    /// One call for a request, bounded by the generation's deadline plus
    /// an allowance for the `input` bytes it is handed. A trap's error names
    /// the limit it hit.
    fn call<R>(
        &mut self,
        input: usize,
        f: impl FnOnce(wit::GuestEngine<'_>, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        self.store
            .set_epoch_deadline(self.deadline.ticks_for(input));
        let result = on_native_stack(|| {
            f(
                self.bindings.pgrest_translator_api().engine(),
                &mut self.store,
            )
        });
        result.map_err(|e| match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => e.context(format!(
                "the translator ran past server-translator-timeout ({} ms)",
                self.deadline.millis
            )),
            Some(Trap::StackOverflow) => e.context("the translator overflowed its stack"),
            _ => e,
        })
    }
}

/// `server-translator-timeout` as epoch ticks.
#[derive(Clone, Copy)]
struct Deadline {
    millis: u64,
    ticks: u64,
}

impl Deadline {
    /// `0` is no deadline. One tick more than the timeout spans, because a
    /// call starts anywhere within the current tick.
    fn from_millis(millis: u64) -> Deadline {
        let tick = EPOCH_TICK.as_millis() as u64;
        let ticks = if millis == 0 {
            NO_DEADLINE
        } else {
            millis.div_ceil(tick) + 1
        };
        Deadline { millis, ticks }
    }

    /// The ticks a call handed `input` bytes may run: the timeout, and as
    /// much again per MiB. Planning a large body or answering from large
    /// rows is work in proportion to them, not a runaway: a 16 MB CSV bulk
    /// insert took 6 s to plan on the shared 2-core machine (about 390 ms
    /// per MiB, Server-Timing's plan stage), a 48 MiB JSON one 0.5-0.9 s.
    fn ticks_for(&self, input: usize) -> u64 {
        if self.ticks == NO_DEADLINE {
            return NO_DEADLINE;
        }
        let tick = EPOCH_TICK.as_millis() as u64;
        let per_mib = (input as u64).saturating_mul(self.millis) >> 20;
        self.ticks.saturating_add(per_mib.div_ceil(tick))
    }
}

/// The instances of one schema generation: same configuration, same
/// introspection results.
pub struct Generation {
    translator: Arc<Compiled>,
    resolved: wit::ResolvedConfig,
    introspection: Vec<String>,
    deadline: Deadline,
    idle: Mutex<Vec<Instance>>,
    renderer: Renderer,
    /// The answers written on sockets outside hyper, rendered once.
    raw_answers: Arc<RawAnswers>,
}

impl Generation {
    /// Loads the first instance, so a bad schema cache fails here.
    pub fn new(
        translator: Arc<Compiled>,
        resolved: wit::ResolvedConfig,
        introspection: Vec<String>,
    ) -> wasmtime::Result<Generation> {
        let renderer = Renderer {
            translator: translator.clone(),
            instance: Mutex::new(None),
        };
        let raw_answers = Arc::new(RawAnswers::new(|err| {
            renderer.render(&resolved.config, err)
        }));
        let generation = Generation {
            translator,
            deadline: Deadline::from_millis(resolved.host.server_translator_timeout),
            resolved,
            introspection,
            idle: Mutex::new(Vec::new()),
            renderer,
            raw_answers,
        };
        let first = generation.load_instance()?;
        generation.idle.lock().expect("pool lock").push(first);
        Ok(generation)
    }

    fn load_instance(&self) -> wasmtime::Result<Instance> {
        let (mut store, bindings) = self.translator.instantiate()?;
        let engine = on_native_stack(|| {
            bindings.pgrest_translator_api().engine().call_load(
                &mut store,
                &self.resolved.config,
                &self.introspection,
            )
        })?
        .map_err(|e| wasmtime::format_err!("loading the schema cache failed: {e}"))?;
        let loaded_bytes = store.data().limits.memory_bytes;
        Ok(Instance {
            store,
            bindings,
            engine,
            loaded_bytes,
            deadline: self.deadline,
        })
    }

    /// Runs `f` on an idle instance (or a new one). An instance whose call
    /// failed (a trap) or whose memory grew past `RETIRE_GROWTH` is dropped
    /// instead of returned to the pool.
    pub fn with_instance<R>(
        &self,
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut instance = match idle {
            Some(i) => i,
            None => self.load_instance()?,
        };
        let result = f(&mut instance);
        if instance.memory_bytes() > instance.loaded_bytes + RETIRE_GROWTH {
            self.translator.retired.fetch_add(1, Ordering::Relaxed);
        } else if result.is_ok() {
            self.idle.lock().expect("pool lock").push(instance);
        }
        result
    }

    /// A failure the host found, rendered with this generation's
    /// configuration (`client-error-verbosity`).
    pub fn render_host_error(&self, err: &wit::HostError) -> wit::HttpResponse {
        self.renderer.render(&self.resolved.config, err)
    }

    pub fn raw_answers(&self) -> &Arc<RawAnswers> {
        &self.raw_answers
    }

    pub fn compiled(&self) -> &Arc<Compiled> {
        &self.translator
    }

    /// The configuration its engines are loaded with.
    pub fn config(&self) -> &[u8] {
        &self.resolved.config
    }

    pub fn resolved(&self) -> &wit::ResolvedConfig {
        &self.resolved
    }
}

/// Renders host-detected failures with its generation's configuration, on
/// an instance it keeps (no engine: they are answered while the schema
/// cache cannot load too).
struct Renderer {
    translator: Arc<Compiled>,
    instance: Mutex<Option<(Store<State>, Translator)>>,
}

impl Renderer {
    /// Should the instance fail, the answer is `last_resort` and the next
    /// call builds a fresh one.
    fn render(&self, config: &[u8], err: &wit::HostError) -> wit::HttpResponse {
        let mut kept = self.instance.lock().expect("renderer lock");
        let instance = match kept.take() {
            Some(instance) => Ok(instance),
            None => self.translator.instantiate(),
        };
        let rendered = instance.and_then(|(mut store, bindings)| {
            let response = on_native_stack(|| {
                bindings
                    .pgrest_translator_api()
                    .call_render_host_error(&mut store, config, err)
            })?;
            Ok((response, (store, bindings)))
        });
        match rendered {
            Ok((response, instance)) => {
                *kept = Some(instance);
                response
            }
            Err(e) => {
                tracing::error!("translator component failed rendering {err:?}: {e:?}");
                last_resort()
            }
        }
    }
}

/// The answer when even rendering an error failed: the one error body the
/// host holds itself.
pub fn last_resort() -> wit::HttpResponse {
    wit::HttpResponse {
        status: 500,
        headers: vec![(
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        )],
        body: br#"{"code":"PGRSTX00","message":"Internal error in the translator component","details":null,"hint":null}"#.to_vec(),
    }
}

/// Runs `f` (which calls into the guest) where at least `NATIVE_STACK` of
/// native stack is left.
fn on_native_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(NATIVE_STACK, NATIVE_STACK, f)
}

/// Advances the engine's epoch every `EPOCH_TICK`, until the engine is gone.
fn spawn_epoch_ticker(engine: EngineWeak) {
    let ticker = std::thread::Builder::new()
        .name("pgrest-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    // Without the thread no deadline ever passes; calls still run.
    if let Err(e) = ticker {
        tracing::error!("pgrest: no translator deadline, the epoch thread failed to start: {e}");
    }
}

/// Compiles the embedded component, or loads its native code from the cache
/// (keyed by the component's bytes and the engine's compatibility hash).
fn load_cached(engine: &Engine) -> wasmtime::Result<Component> {
    let mut hasher = DefaultHasher::new();
    COMPONENT.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path = cache_dir().map(|d| d.join(format!("translator-{:016x}.cwasm", hasher.finish())));
    if let Some(path) = &path
        && path.exists()
    {
        // SAFETY: the file was written by `Component::serialize` of this same
        // engine configuration (the name carries both hashes), only by us.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
            return Ok(component);
        }
    }
    let component = Component::new(engine, COMPONENT)?;
    if let Some(path) = path {
        // Best effort: a cache we cannot write only costs start-up time.
        let _ = write_atomically(&path, &component.serialize()?);
    }
    Ok(component)
}

fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("pgrest"))
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache path has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), bytes)?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}
