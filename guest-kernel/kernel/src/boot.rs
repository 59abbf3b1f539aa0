//! Boot-time facts gathered once (start info, command line, memory map, CPUs)
//! and the memory set-up that depends on them.

use spin::Once;

use crate::acpi::{self, CpuInfo, EcamRegion};
use crate::frame_alloc::{self, LOW_MEMORY, MAX_RESERVED};
use crate::memmap::{MemoryMap, Region};
use crate::pvh::{MemmapEntry, ModlistEntry, StartInfo};
use crate::{cmdline, heap, pvh};

/// Reserved ranges besides the modules: first MiB, kernel image, start
/// info, command line, memory map, module list.
const FIXED_RESERVED: usize = 6;
/// Most boot modules supported (more panic): each takes two reserved
/// ranges (its data and its command line).
pub const MAX_MODULES: usize = (MAX_RESERVED - FIXED_RESERVED) / 2;

/// What the kernel learnt at boot.
#[derive(Debug)]
pub struct BootInfo {
    /// The PVH start info.
    pub start_info: StartInfo,
    /// The command line (empty if none).
    pub cmdline: &'static str,
    /// RAM regions of the memory map.
    pub memory: MemoryMap,
    /// How ACPI tables are looked up (`acpi=` on the command line).
    pub acpi_mode: AcpiMode,
    /// CPUs from the ACPI MADT; `None` if no ACPI tables were found (or `acpi=off`).
    pub cpu_info: Option<CpuInfo>,
    /// The PCI Express configuration window from the ACPI MCFG, if any.
    pub pci_ecam: Option<EcamRegion>,
}

/// `acpi=` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiMode {
    /// Default: the RSDP from the start info, else the BIOS-area search.
    Auto,
    /// `acpi=search`: ignore the start info's RSDP, search the BIOS area.
    Search,
    /// `acpi=off`: no ACPI; one CPU.
    Off,
}

impl AcpiMode {
    /// The mode selected by `cmdline` (unknown values mean `Auto`).
    pub fn from_cmdline(cmdline: &str) -> Self {
        match cmdline::get(cmdline, "acpi") {
            Some(Some("off")) => Self::Off,
            Some(Some("search")) => Self::Search,
            _ => Self::Auto,
        }
    }

    /// The RSDP address to hand to [`acpi`] (0: search the BIOS area), given
    /// the start info's; `None` for `acpi=off`.
    pub fn rsdp(self, start_info_rsdp: u64) -> Option<u64> {
        match self {
            Self::Auto => Some(start_info_rsdp),
            Self::Search => Some(0),
            Self::Off => None,
        }
    }

    /// Looks up the CPUs and the PCI ECAM window in one walk of the tables.
    pub fn boot_facts(self, start_info_rsdp: u64) -> (Option<CpuInfo>, Option<EcamRegion>) {
        self.rsdp(start_info_rsdp)
            .map_or((None, None), acpi::boot_facts)
    }
}

static BOOT_INFO: Once<BootInfo> = Once::new();

unsafe extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// Physical range of the kernel image, .bss (stacks, page tables) included.
pub fn kernel_image() -> Region {
    Region {
        start: (&raw const __kernel_start) as u64,
        end: (&raw const __kernel_end) as u64,
    }
}

/// Parses the start info at `start_info_paddr` and looks up the CPU count.
/// Panics if the start info is unusable.
pub fn init(start_info_paddr: u32) -> &'static BootInfo {
    BOOT_INFO.call_once(|| {
        let start_info = match StartInfo::parse(u64::from(start_info_paddr)) {
            Ok(info) => info,
            Err(e) => panic!("{e}"),
        };
        let cmdline = start_info.cmdline();
        let acpi_mode = AcpiMode::from_cmdline(cmdline);
        let (cpu_info, pci_ecam) = acpi_mode.boot_facts(start_info.rsdp_paddr);
        BootInfo {
            start_info,
            cmdline,
            memory: MemoryMap::from_entries(start_info.memmap()),
            acpi_mode,
            cpu_info,
            pci_ecam,
        }
    })
}

/// The boot facts; panics if called before [`init`].
pub fn info() -> &'static BootInfo {
    BOOT_INFO.get().expect("boot::init has not run")
}

/// Ranges the frame allocator must not hand out: the first MiB, the kernel
/// image, the start info, command line, memory map, module list, and each
/// module with its command line (empty ones left out). Panics if there are
/// more than [`MAX_MODULES`] modules or the module list is unreadable.
pub fn reserved_regions(info: &BootInfo) -> impl Iterator<Item = Region> + Clone {
    let si = &info.start_info;
    let entry = core::mem::size_of::<MemmapEntry>() as u64;
    let module = core::mem::size_of::<ModlistEntry>() as u64;
    let modules = si.modules();
    assert!(
        modules.len() == si.nr_modules as usize,
        "module list of {} entries at {:#x} is not readable",
        si.nr_modules,
        si.modlist_paddr
    );
    assert!(
        modules.len() <= MAX_MODULES,
        "{} boot modules, at most {MAX_MODULES} supported",
        modules.len()
    );
    let fixed: [Region; FIXED_RESERVED] = [
        LOW_MEMORY,
        kernel_image(),
        Region::new(si.paddr, pvh::START_INFO_SIZE),
        Region::new(si.cmdline_paddr, si.cmdline_len()),
        Region::new(si.memmap_paddr, u64::from(si.memmap_entries) * entry),
        Region::new(si.modlist_paddr, u64::from(si.nr_modules) * module),
    ];
    let per_module = modules.iter().flat_map(|m| {
        [
            Region::new(m.paddr, m.size),
            Region::new(m.cmdline_paddr, m.cmdline_len()),
        ]
    });
    fixed
        .into_iter()
        .chain(per_module)
        .filter(|region| !region.is_empty())
}

const _: () = assert!(FIXED_RESERVED + 2 * MAX_MODULES <= MAX_RESERVED);

/// Sets up the frame allocator and the heap (`slub_debug` on the command
/// line: red zones and poison). Panics if RAM is too small.
pub fn init_memory(info: &BootInfo) {
    frame_alloc::init(&info.memory, reserved_regions(info));
    heap::init(cmdline::get(info.cmdline, "slub_debug").is_some());
}
