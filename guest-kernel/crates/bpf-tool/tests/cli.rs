//! `bpf-tool` end to end: exit codes, logs, r0, memory, ELF objects.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn tool(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpf-tool"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bpf-tool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const RET_42: &str = "b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n";
const EXIT_ONLY: &str = "9500000000000000";
/// r0 = *(u8 *)(r1 + 1); r0 += r2; exit
const MEM_READ: &str = "71 10 01 00 00 00 00 00  0f 20 00 00 00 00 00 00  95 00 00 00 00 00 00 00";
/// r0 = 0; r0 += 1; if r0 < 10 goto -2; exit
const LOOP: &str = "b700000000000000 0700000001000000 a500feff0a000000 9500000000000000";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdp_count.o")
}

#[test]
fn test_verify_accepts_with_exit_zero_and_log() {
    let o = tool(&["verify"], RET_42);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("processed 2 insns"), "{}", stdout(&o));
}

#[test]
fn test_verify_rejects_with_exit_one_and_reason() {
    let o = tool(&["verify", "--prog-type", "socket_filter"], EXIT_ONLY);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("0: (95) exit\nR0 !read_ok"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn test_verify_ctx_size_bounds_mem_access() {
    assert_eq!(
        tool(&["verify", "--ctx-size", "2"], MEM_READ).status.code(),
        Some(0)
    );
    let o = tool(&["verify", "--ctx-size", "1"], MEM_READ);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("invalid access to memory, mem_size=1 off=1 size=1"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn test_verify_unpriv_rejects_loops_that_root_accepts() {
    assert_eq!(tool(&["verify"], LOOP).status.code(), Some(0));
    let o = tool(&["verify", "--unpriv"], LOOP);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("back-edge from insn 2 to 1"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn test_run_prints_r0_in_hex() {
    let o = tool(&["run"], RET_42);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0x2a\n");
    let o = tool(&["run"], LOOP);
    assert_eq!(stdout(&o), "0xa\n");
}

#[test]
fn test_run_passes_memory_copy_and_length() {
    let o = tool(&["run", "--mem", "0a 0b 0c"], MEM_READ);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "0xe\n");
}

#[test]
fn test_run_refuses_unverified_program_unless_told() {
    let o = tool(&["run", "--mem", "01"], MEM_READ);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("invalid access to memory"),
        "{}",
        stdout(&o)
    );
    let o = tool(&["run", "--mem", "01", "--no-verify"], MEM_READ);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("out-of-bounds load"), "{}", stderr(&o));
}

#[test]
fn test_bad_input_exits_two() {
    assert_eq!(tool(&["verify"], "zz").status.code(), Some(2));
    assert_eq!(tool(&["verify"], "b7000000").status.code(), Some(2));
    assert_eq!(
        tool(&["verify", "--prog-type", "nope"], RET_42)
            .status
            .code(),
        Some(2)
    );
    let o = tool(&["verify"], "ff00000000000000");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown opcode ff"), "{}", stderr(&o));
}

#[test]
fn test_maps_from_the_command_line() {
    // key 0 on the stack; r0 = lookup(map fd 3); r0 = r0 ? 1 : 2
    let prog = "62 0a fc ff 00 00 00 00  bf a2 00 00 00 00 00 00  07 02 00 00 fc ff ff ff
                18 11 00 00 03 00 00 00  00 00 00 00 00 00 00 00  85 00 00 00 01 00 00 00
                15 00 02 00 00 00 00 00  b7 00 00 00 01 00 00 00  95 00 00 00 00 00 00 00
                b7 00 00 00 02 00 00 00  95 00 00 00 00 00 00 00";
    let o = tool(&["run", "--map", "array:4:8:1"], prog);
    assert_eq!(stdout(&o), "0x1\n", "{}", stderr(&o));
    let o = tool(&["run", "--map", "hash:4:8:1"], prog);
    assert_eq!(stdout(&o), "0x2\n", "{}", stderr(&o));
    let o = tool(&["verify"], prog);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("fd 3 is not pointing to valid bpf_map"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn test_elf_fixture_verifies_and_runs() {
    let path = fixture();
    let p = path.to_str().unwrap();
    let o = tool(
        &[
            "verify",
            "--prog-type",
            "xdp",
            "--elf",
            p,
            "--section",
            "xdp",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = tool(
        &[
            "run",
            "--prog-type",
            "xdp",
            "--elf",
            p,
            "--section",
            "xdp",
            "--mem",
            "05",
        ],
        "",
    );
    assert_eq!(stdout(&o), "0x7\n", "{}", stderr(&o));
    let o = tool(
        &["run", "--prog-type", "xdp", "--elf", p, "--section", "xdp"],
        "",
    );
    assert_eq!(stdout(&o), "0x1\n", "{}", stderr(&o));
    let o = tool(&["verify", "--elf", p, "--section", "nope"], "");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_elf_built_by_clang_at_test_time() {
    let Ok(clang) = Command::new("clang").arg("--version").output() else {
        eprintln!("clang not installed: skipping");
        return;
    };
    if !clang.status.success() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("bpf-tool-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("xdp_count.o");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdp_count.c");
    let st = Command::new("clang")
        .args(["-O2", "-target", "bpf", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .unwrap();
    assert!(st.success());
    let o = tool(
        &[
            "run",
            "--prog-type",
            "xdp",
            "--elf",
            obj.to_str().unwrap(),
            "--section",
            "xdp",
            "--mem",
            "28",
        ],
        "",
    );
    assert_eq!(stdout(&o), "0x2a\n", "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}
