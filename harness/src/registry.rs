//! The one list of backends. The command line, the tests and the benches all walk it.
//!
//! Adding a backend is one line in [`for_each_backend`] plus its dependency in
//! `harness/Cargo.toml`.

use buffer_api::{Backend, Capabilities};

/// Something done once per backend type. Because a backend is a type, not a value, the list is
/// walked with a visitor whose method is generic over the backend.
///
/// ```
/// use buffer_api::Backend;
/// use harness::registry::{BackendVisitor, for_each_backend};
///
/// struct Names(Vec<&'static str>);
/// impl BackendVisitor for Names {
///     fn visit<B: Backend>(&mut self) {
///         self.0.push(B::NAME);
///     }
/// }
/// let mut names = Names(Vec::new());
/// for_each_backend(&mut names);
/// assert!(names.0.contains(&"crossbeam"));
/// ```
pub trait BackendVisitor {
    /// Called once for each backend, in registry order.
    fn visit<B: Backend>(&mut self);
}

/// Calls `visitor` for every backend, in a fixed order.
pub fn for_each_backend(visitor: &mut impl BackendVisitor) {
    visitor.visit::<buffer_condvar::CondvarFifo>();
    visitor.visit::<buffer_condvar::CondvarLifo>();
    visitor.visit::<buffer_condvar::CondvarPriority<crate::engine::ItemPriority>>();
    visitor.visit::<buffer_crossbeam::Crossbeam>();
    visitor.visit::<buffer_crossbeam::CrossbeamClose>();
    visitor.visit::<buffer_flume::Flume>();
    visitor.visit::<buffer_flume::FlumeClose>();
    visitor.visit::<buffer_std::Std>();
    visitor.visit::<buffer_steal::Steal>();
}

/// A backend's name and declared capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// `Backend::NAME`.
    pub name: &'static str,
    /// `Backend::CAPABILITIES`.
    pub capabilities: Capabilities,
}

/// Every backend's name and capabilities, in registry order.
pub fn backends() -> Vec<BackendInfo> {
    struct Collect(Vec<BackendInfo>);
    impl BackendVisitor for Collect {
        fn visit<B: Backend>(&mut self) {
            self.0.push(BackendInfo {
                name: B::NAME,
                capabilities: B::CAPABILITIES,
            });
        }
    }
    let mut collect = Collect(Vec::new());
    for_each_backend(&mut collect);
    collect.0
}

/// Every backend's name, in registry order.
pub fn names() -> Vec<&'static str> {
    backends().into_iter().map(|b| b.name).collect()
}

/// The capabilities of the backend called `name`, if there is one.
pub(crate) fn find(name: &str) -> Option<BackendInfo> {
    backends().into_iter().find(|b| b.name == name)
}

/// Calls `visitor` for the backend called `name` only.
///
/// # Errors
///
/// [`UnknownBackend`] (which lists the known names) when no backend has that name.
pub(crate) fn visit_named(
    name: &str,
    visitor: &mut impl BackendVisitor,
) -> Result<(), UnknownBackend> {
    struct Named<'a, V> {
        name: &'a str,
        found: bool,
        inner: &'a mut V,
    }
    impl<V: BackendVisitor> BackendVisitor for Named<'_, V> {
        fn visit<B: Backend>(&mut self) {
            if B::NAME == self.name {
                self.found = true;
                self.inner.visit::<B>();
            }
        }
    }
    let mut named = Named {
        name,
        found: false,
        inner: visitor,
    };
    for_each_backend(&mut named);
    if named.found {
        Ok(())
    } else {
        Err(UnknownBackend(name.to_owned()))
    }
}

/// Resolves a comma-separated list of names (or `all`) against the registry, keeping the
/// order given.
///
/// # Errors
///
/// The first unknown name.
pub(crate) fn resolve(list: &str) -> Result<Vec<&'static str>, UnknownBackend> {
    let known = names();
    if list.trim() == "all" {
        return Ok(known);
    }
    let mut chosen = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let found = known
            .iter()
            .find(|k| **k == name)
            .ok_or_else(|| UnknownBackend(name.to_owned()))?;
        if !chosen.contains(found) {
            chosen.push(*found);
        }
    }
    if chosen.is_empty() {
        return Err(UnknownBackend(list.to_owned()));
    }
    Ok(chosen)
}

/// A backend name the registry does not know. `Display` lists the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnknownBackend(pub(crate) String);

impl std::fmt::Display for UnknownBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown backend `{}`; known backends: {}",
            self.0,
            names().join(", ")
        )
    }
}

impl std::error::Error for UnknownBackend {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolvable() {
        let names = names();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "duplicate names in {names:?}");
        for name in &names {
            assert_eq!(find(name).map(|info| info.name), Some(*name));
        }
        assert_eq!(resolve("all").unwrap(), names);
        assert_eq!(
            resolve("flume, crossbeam,flume").unwrap(),
            vec!["flume", "crossbeam"]
        );
        let err = resolve("crossbeam,nope").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "unknown backend `nope`; known backends: {}",
                names.join(", ")
            )
        );
        assert!(find("condvar").is_some());
    }

    #[test]
    fn visiting_by_name_visits_exactly_one() {
        struct Count(usize, &'static str);
        impl BackendVisitor for Count {
            fn visit<B: Backend>(&mut self) {
                self.0 += 1;
                self.1 = B::NAME;
            }
        }
        let mut count = Count(0, "");
        visit_named("flume", &mut count).unwrap();
        assert_eq!((count.0, count.1), (1, "flume"));
        assert!(visit_named("nope", &mut count).is_err());
    }
}
