//! Stage 1: inputs → mailboxes → sources.
//!
//! A *mailbox* is what the responder exported for one account; a *source* is
//! one file in it (an mbox file, a gzip mbox, or one message file of a Maildir
//! or .eml folder). Discovery only lists files: what a file holds is decided
//! from its content when it is opened (`mailbox::open`), never from its name.
//! The only names that matter are the layout ones: Maildir `tmp/` is ignored,
//! and index/metadata files of mail clients are skipped silently.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, Problem};

/// One file to read.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where it is.
    pub path: PathBuf,
    /// The path as shown in the outputs (the INPUT as given, joined with the relative path).
    pub display: String,
    /// Size in bytes when listed.
    pub len: u64,
    /// Index of its mailbox in `Discovery::mailboxes`.
    pub mailbox: usize,
    /// True when the file lies in a sent-mail folder of its mailbox
    /// (Maildir++ `.Sent`, Thunderbird `Sent`, `Sent Items`, `送信済み`, ...).
    pub sent_folder: bool,
}

/// One exported account.
#[derive(Debug, Clone)]
pub struct MailboxSpec {
    /// Its name in the outputs: the INPUT path as given, or with `--batch` the child's path.
    pub name: String,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Mailboxes in command-line order (with `--batch`, children sorted by name).
    pub mailboxes: Vec<MailboxSpec>,
    /// Sources grouped by mailbox, each group sorted by path bytes.
    pub sources: Vec<Source>,
    /// Files skipped with a warning.
    pub problems: Vec<Problem>,
}

/// Lists the mailboxes and their files.
pub fn discover(inputs: &[PathBuf], batch: bool) -> Result<Discovery, Error> {
    let mut found = Discovery::default();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| Error::Input {
            path: input.clone(),
            source,
        })?;
        if batch {
            if !meta.is_dir() {
                return Err(Error::Usage(format!(
                    "--batch needs folders whose children are mailboxes; '{}' is not a folder",
                    input.display()
                )));
            }
            let mut children: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|source| Error::Input {
                    path: input.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| !is_silent_skip(p))
                .collect();
            children.sort();
            for child in children {
                let name = display_join(&input.display().to_string(), child.file_name());
                add_mailbox(&mut found, &child, name);
            }
        } else {
            add_mailbox(&mut found, input, input.display().to_string());
        }
    }
    Ok(found)
}

fn display_join(base: &str, name: Option<&std::ffi::OsStr>) -> String {
    let name = name.map(|n| n.to_string_lossy()).unwrap_or_default();
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

fn add_mailbox(found: &mut Discovery, root: &Path, name: String) {
    let mailbox = found.mailboxes.len();
    found.mailboxes.push(MailboxSpec { name: name.clone() });
    // An input named on the command line is read whatever it is: a file, a
    // link to one, a pipe or /dev/stdin.
    if std::fs::metadata(root).is_ok_and(|m| !m.is_dir()) {
        let len = std::fs::metadata(root).map(|m| m.len()).unwrap_or(0);
        found.sources.push(Source {
            path: root.to_path_buf(),
            display: name,
            len,
            mailbox,
            sent_folder: false,
        });
        return;
    }
    // sort_by_file_name makes the walk independent of the file system's order.
    let walker = WalkDir::new(root).follow_links(false).sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or(name.clone());
                found
                    .problems
                    .push(Problem::file(&path, format!("cannot list: {e}")));
                continue;
            }
        };
        if entry.file_type().is_dir() || entry.file_type().is_symlink() {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path);
        if in_maildir_tmp(rel) || is_silent_skip(path) {
            continue;
        }
        let display = if rel.as_os_str().is_empty() {
            name.clone()
        } else {
            format!("{}/{}", name.trim_end_matches('/'), rel.display())
        };
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        found.sources.push(Source {
            path: path.to_path_buf(),
            display,
            len,
            mailbox,
            sent_folder: is_sent_folder(rel),
        });
    }
}

/// Maildir delivers into `tmp/` and moves finished mail to `new/`: what is in
/// `tmp/` may be half written and is never part of the mailbox.
fn in_maildir_tmp(rel: &Path) -> bool {
    let parts: Vec<_> = rel.components().collect();
    parts.len() >= 2 && parts[parts.len() - 2].as_os_str() == "tmp"
}

/// Index and metadata files of mail clients and servers: skipped without a
/// warning because every export has them (Thunderbird `.msf`, Apple Mail
/// bundle files, Dovecot and Courier indexes).
fn is_silent_skip(path: &Path) -> bool {
    let name = match path.file_name().and_then(|n| n.to_str()) {
        Some(n) => n,
        None => return false,
    };
    const NAMES: &[&str] = &[
        "Info.plist",          // Apple Mail .mbox bundle
        "table_of_contents",   // Apple Mail .mbox bundle
        "courierimapkeywords", // Courier
        "courierimapuiddb",    // Courier
        "courierimapacl",      // Courier
        "dovecot-keywords",    // Dovecot
        "dovecot-uidlist",     // Dovecot
        "dovecot-uidvalidity", // Dovecot
        "maildirfolder",       // Maildir++ marker file
        "maildirsize",         // Maildir++ quota
        "subscriptions",       // Dovecot/Courier folder list
    ];
    name.ends_with(".msf")
        || name.starts_with("dovecot.index")
        || name.starts_with("dovecot-uidvalidity.")
        || name.starts_with("dovecot.list.index")
        || NAMES.contains(&name)
}

/// Folder names mail clients and servers give to sent mail (Maildir++ folders
/// start with a dot; Gmail/Takeout use "Sent", Outlook "Sent Items").
fn is_sent_folder(rel: &Path) -> bool {
    rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy().to_lowercase();
        let s = s.trim_start_matches('.').trim_end_matches(".mbox");
        let s = s.rsplit(['.', '/']).next().unwrap_or(s);
        matches!(
            s,
            "sent"
                | "sent items"
                | "sent messages"
                | "sent mail"
                | "送信済み"
                | "送信済みアイテム"
                | "送信済みメール"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_tmp_is_ignored() {
        assert!(in_maildir_tmp(Path::new("tmp/123.M1")));
        assert!(in_maildir_tmp(Path::new(".Sent/tmp/123.M1")));
        assert!(!in_maildir_tmp(Path::new("cur/123.M1:2,S")));
        assert!(!in_maildir_tmp(Path::new("tmp")));
    }

    #[test]
    fn sent_folders() {
        assert!(is_sent_folder(Path::new(".Sent/cur/1:2,S")));
        assert!(is_sent_folder(Path::new("INBOX.Sent/cur/1")));
        assert!(is_sent_folder(Path::new("Sent")));
        assert!(is_sent_folder(Path::new("Sent Items.mbox/mbox")));
        assert!(!is_sent_folder(Path::new("cur/sent-report")));
        assert!(!is_sent_folder(Path::new("Inbox")));
    }

    #[test]
    fn index_files_are_silent() {
        assert!(is_silent_skip(Path::new("Inbox.msf")));
        assert!(is_silent_skip(Path::new("x.mbox/table_of_contents")));
        assert!(!is_silent_skip(Path::new("Thumbs.db")));
    }
}
