//! Integration tests: one binary, one module per concern.

// Running the binary in temporary folders and reading its outputs.
mod util;
// Command line: exit codes, warnings, help.
mod cli;
// Every input format, bad input, and byte-identical output across threads and file order.
mod inputs;
// The shared bounce corpus against the reference parser's answers (skipped when absent).
mod corpus;
// Generated mailboxes with a known truth: planted bounces, campaigns, verdicts, batch.
mod scenarios;
// Hand-written bounce fixtures, one or more per family, against expected.tsv.
mod families;
// Fixed bugs, one test each, named after what broke.
mod regression;
