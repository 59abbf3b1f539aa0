//! IAA tests
