//! The whole conformance suite, run against the template backend.

buffer_conformance::conformance_suite!(template_backend::Template);
