//! Stripped binary sizes: the built binary (x86_64 here) and, when `cargo lambda build
//! --arm64` has been run, the arm64 bootstrap.

use crate::Result;
use std::path::Path;
use std::process::Command;

/// The size in bytes of a stripped copy of `binary` (a release binary of this workspace is
/// already stripped by the profile, so then it is its own size). GNU `strip` knows only this
/// machine's architecture; `llvm-strip` knows them all.
pub fn stripped(binary: &Path, scratch: &Path) -> Result<u64> {
    let copy = scratch.join(format!(
        "{}.stripped",
        binary.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::copy(binary, &copy).map_err(|e| format!("copy {}: {e}", binary.display()))?;
    let strips = ["strip", "llvm-strip", "aarch64-linux-gnu-strip"];
    let stripped = strips.iter().any(|tool| {
        Command::new(tool)
            .arg(&copy)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let size = std::fs::metadata(&copy).map_err(|e| e.to_string())?.len();
    let _ = std::fs::remove_file(&copy);
    if !stripped {
        return Err(format!(
            "none of {} could strip {}",
            strips.join(", "),
            binary.display()
        ));
    }
    Ok(size)
}

/// `<target>/lambda/<function>/bootstrap`, if it is an aarch64 ELF.
pub fn arm64_bootstrap(target_dir: &Path, function: &str) -> Option<std::path::PathBuf> {
    let path = target_dir.join("lambda").join(function).join("bootstrap");
    let mut header = [0u8; 20];
    std::io::Read::read_exact(&mut std::fs::File::open(&path).ok()?, &mut header).ok()?;
    is_aarch64_elf(&header).then_some(path)
}

/// ELF magic, and `e_machine` (offset 18, little-endian) 183 = EM_AARCH64.
fn is_aarch64_elf(header: &[u8]) -> bool {
    header.len() >= 20 && header.starts_with(b"\x7fELF") && header[18] == 183 && header[19] == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_aarch64_from_x86_64() {
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(24, 0);
        elf[18] = 183;
        assert!(is_aarch64_elf(&elf));
        elf[18] = 62; // EM_X86_64
        assert!(!is_aarch64_elf(&elf));
    }
}
