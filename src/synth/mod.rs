//! Synthetic mail generator (placeholder).
