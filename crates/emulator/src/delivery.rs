//! A response body that notes when its last frame was handed to hyper, so that
//! crash tests can tell a token the client could have read from one it never got.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};

use crate::state::Shared;

/// Wraps a response body; marks logged request `index` delivered at its end.
pub(crate) struct DeliveryBody {
    inner: Body,
    shared: Arc<Shared>,
    index: usize,
    marked: AtomicBool,
}

impl DeliveryBody {
    pub fn new(inner: Body, shared: Arc<Shared>, index: usize) -> Self {
        Self {
            inner,
            shared,
            index,
            marked: AtomicBool::new(false),
        }
    }

    fn mark(&self) {
        if !self.marked.swap(true, Ordering::AcqRel) {
            self.shared.mark_delivered(self.index);
        }
    }
}

impl hyper::body::Body for DeliveryBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.mark(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.mark(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.mark();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
