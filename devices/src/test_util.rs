//! Helpers shared by the models' unit tests.

use std::sync::Mutex;

use crate::{StopRequest, StopSink};

/// A stop sink that records every request.
#[derive(Default)]
pub(crate) struct Collect(pub(crate) Mutex<Vec<StopRequest>>);

impl StopSink for Collect {
    fn request_stop(&self, request: StopRequest) {
        self.0.lock().unwrap().push(request);
    }
}
