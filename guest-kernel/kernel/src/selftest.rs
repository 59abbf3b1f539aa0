//! `selftest=<mode>` on the command line: what the kernel does after the banner.

use x86_64::VirtAddr;
use x86_64::instructions::port::Port;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use crate::arch::{self, paging};
use crate::exit::ExitCode;
use crate::{cmdline, println, tests};

/// The i8042 command/status port.
const I8042_COMMAND_PORT: u16 = 0x64;
/// i8042 command: pulse the CPU reset line.
const I8042_CMD_RESET_CPU: u8 = 0xfe;

/// Address of the MMIO hole the `emufail` mode loads an x87 value from.
pub const EMUFAIL_ADDR: u64 = 0xd000_0000;

/// The requested mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode<'a> {
    /// Run the in-kernel tests (also when `selftest` is absent).
    Run,
    /// Panic on purpose (exit 2).
    Panic,
    /// Disable interrupts and halt forever (the VMM's timeout must end it).
    Hang,
    /// Execute an x87 load from MMIO, which KVM's emulator cannot do.
    EmuFail,
    /// Read an unmapped address without recovery (exception, exit 3).
    Fault,
    /// Ask the i8042 keyboard controller to reset the CPU (the VMM exits 66).
    Reset,
    /// Fault with an empty IDT: #PF, then #GP, then a triple fault (the VMM exits 67).
    TripleFault,
    /// Issue the virtio-blk requests `blkbench=` describes, for `make bench`
    /// to count the VM exits they cost.
    BlkBench,
    /// Compress and decompress pages on the IAA device as `iaabench=`
    /// says, for the bench to count the VM exits they cost.
    IaaBench,
    /// Submit batches of QAT requests as `qatbench=` describes, for the
    /// VMM's exit counters.
    QatBench,
    /// Run the initramfs programs in user mode (the default when an
    /// initramfs is given); handled by `main`, not [`run`].
    User,
    /// Time the heap's fast path per kmalloc class (`mmbench`).
    MmBench,
    /// Anything else (exit 1).
    Unknown(&'a str),
}

/// The mode selected by `cmdline`.
pub fn mode(cmdline: &str) -> Mode<'_> {
    match cmdline::get(cmdline, "selftest") {
        None | Some(Some("run")) => Mode::Run,
        Some(Some("panic")) => Mode::Panic,
        Some(Some("hang")) => Mode::Hang,
        Some(Some("emufail")) => Mode::EmuFail,
        Some(Some("fault")) => Mode::Fault,
        Some(Some("reset")) => Mode::Reset,
        Some(Some("triplefault")) => Mode::TripleFault,
        Some(Some("blkbench")) => Mode::BlkBench,
        Some(Some("iaabench")) => Mode::IaaBench,
        Some(Some("qatbench")) => Mode::QatBench,
        Some(Some("user")) => Mode::User,
        Some(Some("mmbench")) => Mode::MmBench,
        Some(Some(other)) => Mode::Unknown(other),
        Some(None) => Mode::Unknown(""),
    }
}

/// Carries out `mode`; returns the exit code for the modes that finish.
pub fn run(mode: Mode<'_>) -> ExitCode {
    match mode {
        Mode::Run => tests::run_all(),
        Mode::Panic => panic!("deliberate panic requested by selftest=panic"),
        Mode::Hang => {
            println!("hang: interrupts off, halting forever");
            arch::halt_forever()
        }
        Mode::EmuFail => {
            println!("emufail: executing fld at mmio {EMUFAIL_ADDR:#x}");
            x87_load(EMUFAIL_ADDR);
            println!("emufail: fld completed without an emulation failure");
            ExitCode::Failure
        }
        Mode::Fault => {
            // SAFETY: reading an unmapped address has no effect on memory: it
            // raises #PF, which the exception handler reports before exiting.
            let value = unsafe { core::ptr::read_volatile(paging::UNMAPPED_ADDR as *const u64) };
            println!(
                "fault: read {value:#x} from {:#x} without a fault",
                paging::UNMAPPED_ADDR
            );
            ExitCode::Failure
        }
        Mode::Reset => {
            println!("reset: writing 0xfe to i8042 port 0x64");
            // SAFETY: the i8042 command port only triggers a reset here.
            unsafe { Port::<u8>::new(I8042_COMMAND_PORT).write(I8042_CMD_RESET_CPU) };
            println!("reset: the machine is still running");
            ExitCode::Failure
        }
        Mode::TripleFault => {
            println!("triplefault: faulting with an empty IDT");
            triple_fault();
            println!("triplefault: the machine is still running");
            ExitCode::Failure
        }
        Mode::BlkBench => crate::blkbench::run(),
        Mode::IaaBench => crate::iaabench::run(),
        Mode::QatBench => crate::qatbench::run(),
        Mode::User => {
            println!("selftest: user mode needs an initramfs");
            ExitCode::Failure
        }
        Mode::MmBench => crate::mmbench::run(),
        Mode::Unknown(other) => {
            println!("selftest: unknown mode \"{other}\"");
            ExitCode::Failure
        }
    }
}

/// Loads an IDT with no entries and reads an unmapped address: the #PF
/// cannot be delivered (#GP), nor can that (#DF): the CPU shuts down.
fn triple_fault() {
    let empty = DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::new(0),
    };
    // SAFETY: this deliberately ends the machine; interrupts go off first
    // so nothing runs between the empty IDT and the fault.
    unsafe {
        x86_64::instructions::interrupts::disable();
        lidt(&empty);
        core::ptr::read_volatile(paging::UNMAPPED_ADDR as *const u64);
    }
}

/// `fld tbyte ptr [addr]`: an 80-bit x87 load (CR0.EM and TS are clear),
/// popped again with `fstp st(0)` if it completes.
fn x87_load(addr: u64) {
    // SAFETY: the load only reads `addr` (identity-mapped MMIO hole, no
    // device) onto the x87 stack, and the fstp pops it; the x87 registers are
    // declared clobbered, so the compiler keeps nothing there.
    unsafe {
        core::arch::asm!(
            "fld tbyte ptr [{addr}]",
            "fstp st(0)",
            addr = in(reg) addr,
            out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
            out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
            options(nostack, readonly),
        );
    }
}
