//! Compiled components on disk, keyed by the module's content hash and the
//! engine's compatibility hash, so a restart loads machine code instead of
//! recompiling (cranelift takes ~100 ms–1 s per plugin on these machines).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

pub(crate) struct DiskCache {
    dir: PathBuf,
    engine_tag: String,
}

impl DiskCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(DiskCache {
            dir: dir.to_path_buf(),
            engine_tag: format!("{:016x}", h.finish()),
        })
    }

    fn path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.join(format!("{hex}-{}.cwasm", self.engine_tag))
    }

    /// A cached compilation, if there is a usable one.
    pub(crate) fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path(digest);
        if !path.exists() {
            return None;
        }
        // SAFETY: wasmtime requires that the file was produced by `serialize` of a
        // compatible engine and not tampered with. Only this cache writes the
        // directory (inside the server's private data directory), the name
        // carries the engine's compatibility hash, and files are renamed into
        // place complete.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled plugin");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Keeps `image`, a serialized component, for the next start.
    pub(crate) fn store(&self, digest: &str, image: &[u8]) {
        let path = self.path(digest);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let result = std::fs::write(&tmp, image).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = result {
            // The cache only saves time; a failure to write it is not an error.
            tracing::warn!(path = %path.display(), error = %e, "cannot cache compiled plugin");
        }
    }
}
