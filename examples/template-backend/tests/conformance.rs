//! The whole conformance suite, run against the template backend.

buffer_api::conformance_suite!(template_backend::Template);
