//! Interrupt routing: KVM's GSI routing table (the in-kernel PIC and
//! IOAPIC pins, as KVM sets them up by default, plus one MSI route per
//! device vector in use) and the irqfds devices signal.
//!
//! A device model produces an [`MsiMessage`] for a vector (its MSI-X table
//! applied masking and pending bits already); [`KvmMsiSink`] gives each
//! vector a GSI and an irqfd on first use, points the GSI's route at the
//! message whenever the guest has changed it, and signals the irqfd. The
//! interrupt is then injected by KVM without another exit. A function
//! using INTx instead (its driver left MSI-X off) drives an IOAPIC input
//! through [`KvmIntx`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::pci::{IntxLine, MsiMessage, MsiSink};
use kvm_bindings::{
    kvm_irq_routing_entry, kvm_irq_routing_entry__bindgen_ty_1, kvm_irq_routing_irqchip,
    kvm_irq_routing_msi, kvm_msi, KvmIrqRouting, KVM_IRQCHIP_IOAPIC, KVM_IRQCHIP_PIC_MASTER,
    KVM_IRQCHIP_PIC_SLAVE, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI, KVM_MAX_IRQ_ROUTES,
};
use kvm_ioctls::VmFd;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

/// GSIs 0-23 are the IOAPIC's pins (0-15 also the PICs'); MSI routes follow.
const FIRST_MSI_GSI: u32 = 24;
/// Pins of KVM's IOAPIC.
const IOAPIC_PINS: u32 = 24;
/// Pins of the two cascaded PICs.
const PIC_PINS: u32 = 16;

fn irqchip_entry(gsi: u32, chip: u32, pin: u32) -> kvm_irq_routing_entry {
    kvm_irq_routing_entry {
        gsi,
        type_: KVM_IRQ_ROUTING_IRQCHIP,
        u: kvm_irq_routing_entry__bindgen_ty_1 {
            irqchip: kvm_irq_routing_irqchip { irqchip: chip, pin },
        },
        ..Default::default()
    }
}

fn msi_entry(gsi: u32, message: MsiMessage) -> kvm_irq_routing_entry {
    kvm_irq_routing_entry {
        gsi,
        type_: KVM_IRQ_ROUTING_MSI,
        u: kvm_irq_routing_entry__bindgen_ty_1 {
            msi: kvm_irq_routing_msi {
                address_lo: message.address as u32,
                address_hi: (message.address >> 32) as u32,
                data: message.data,
                ..Default::default()
            },
        },
        ..Default::default()
    }
}

/// The routes KVM installs with its in-kernel irqchip: GSI n to IOAPIC
/// pin n, and for n < 16 also to the PIC pin n.
fn default_routes() -> Vec<kvm_irq_routing_entry> {
    let mut routes = Vec::new();
    for gsi in 0..IOAPIC_PINS {
        if gsi < PIC_PINS {
            let (chip, pin) = if gsi < 8 {
                (KVM_IRQCHIP_PIC_MASTER, gsi)
            } else {
                (KVM_IRQCHIP_PIC_SLAVE, gsi - 8)
            };
            routes.push(irqchip_entry(gsi, chip, pin));
        }
        routes.push(irqchip_entry(gsi, KVM_IRQCHIP_IOAPIC, gsi));
    }
    routes
}

#[derive(Default)]
struct Routes {
    next_gsi: u32,
    msi: BTreeMap<u32, MsiMessage>,
}

/// The VM's GSI routing table.
pub struct GsiRouter {
    vm: Arc<VmFd>,
    routes: Mutex<Routes>,
}

impl GsiRouter {
    /// A router for `vm`, whose table holds only the irqchip routes.
    pub fn new(vm: Arc<VmFd>) -> Self {
        Self {
            vm,
            routes: Mutex::new(Routes {
                next_gsi: FIRST_MSI_GSI,
                msi: BTreeMap::new(),
            }),
        }
    }

    /// A fresh GSI for an MSI route, or None when KVM's table is full.
    fn allocate(&self) -> Option<u32> {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let gsi = routes.next_gsi;
        let table_len = default_routes().len() + (gsi - FIRST_MSI_GSI) as usize + 1;
        (table_len <= KVM_MAX_IRQ_ROUTES).then(|| {
            routes.next_gsi += 1;
            gsi
        })
    }

    /// Points `gsi` at `message`; a no-op when it already is.
    fn route(&self, gsi: u32, message: MsiMessage) -> Result<()> {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if routes.msi.get(&gsi) == Some(&message) {
            return Ok(());
        }
        routes.msi.insert(gsi, message);
        let mut entries = default_routes();
        entries.extend(routes.msi.iter().map(|(gsi, m)| msi_entry(*gsi, *m)));
        let table = KvmIrqRouting::from_entries(&entries)
            .map_err(|e| anyhow::anyhow!("GSI routing table: {e:?}"))?;
        self.vm
            .set_gsi_routing(&table)
            .context("KVM_SET_GSI_ROUTING")
    }

    /// Sends `message` directly (KVM_SIGNAL_MSI), for when no GSI is left.
    fn signal(&self, message: MsiMessage) -> Result<()> {
        let msi = kvm_msi {
            address_lo: message.address as u32,
            address_hi: (message.address >> 32) as u32,
            data: message.data,
            ..Default::default()
        };
        self.vm.signal_msi(msi).context("KVM_SIGNAL_MSI")?;
        Ok(())
    }
}

/// A vector's GSI and the irqfd that raises it.
struct VectorRoute {
    gsi: u32,
    irqfd: EventFd,
}

/// One PCI function's MSI-X vectors, delivered through GSI routes and irqfds.
pub struct KvmMsiSink {
    name: String,
    router: Arc<GsiRouter>,
    vectors: Mutex<BTreeMap<u16, Option<VectorRoute>>>,
}

impl KvmMsiSink {
    /// A sink for the function called `name` (in error messages).
    pub fn new(name: impl Into<String>, router: Arc<GsiRouter>) -> Self {
        Self {
            name: name.into(),
            router,
            vectors: Mutex::new(BTreeMap::new()),
        }
    }

    fn new_route(&self) -> Result<Option<VectorRoute>> {
        let Some(gsi) = self.router.allocate() else {
            return Ok(None);
        };
        let irqfd = EventFd::new(EFD_NONBLOCK).context("creating an irqfd")?;
        self.router
            .vm
            .register_irqfd(&irqfd, gsi)
            .context("KVM_IRQFD")?;
        Ok(Some(VectorRoute { gsi, irqfd }))
    }

    fn deliver(&self, vector: u16, message: MsiMessage) -> Result<()> {
        let mut vectors = self.vectors.lock().unwrap_or_else(|p| p.into_inner());
        let route = match vectors.get(&vector) {
            Some(route) => route,
            None => {
                let route = self.new_route()?;
                vectors.entry(vector).or_insert(route)
            }
        };
        match route {
            Some(VectorRoute { gsi, irqfd }) => {
                self.router.route(*gsi, message)?;
                irqfd.write(1).context("signalling an irqfd")
            }
            None => self.router.signal(message),
        }
    }
}

impl MsiSink for KvmMsiSink {
    fn send(&self, vector: u16, message: MsiMessage) {
        if let Err(e) = self.deliver(vector, message) {
            // A device cannot act on the failure; the guest sees a lost
            // interrupt, and the user sees why.
            eprintln!("vmm: warning: {} MSI-X vector {vector}: {e:#}", self.name);
        }
    }
}

/// A PCI function's INTx pin on an IOAPIC input (level-triggered):
/// KVM_IRQ_LINE raises and lowers it.
pub struct KvmIntx {
    vm: Arc<VmFd>,
    gsi: u32,
}

impl KvmIntx {
    /// The pin wired to `gsi`.
    pub fn new(vm: Arc<VmFd>, gsi: u32) -> Self {
        Self { vm, gsi }
    }
}

impl IntxLine for KvmIntx {
    fn set_level(&self, asserted: bool) {
        if let Err(e) = self.vm.set_irq_line(self.gsi, asserted) {
            eprintln!("vmm: warning: INTx on GSI {}: {e}", self.gsi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_default_routes_match_kvms_irqchip_setup() {
        let routes = default_routes();
        assert_eq!(routes.len(), 40, "16 PIC + 24 IOAPIC");
        let chips: Vec<(u32, u32, u32)> = routes
            .iter()
            // SAFETY: every entry built by irqchip_entry holds the irqchip variant.
            .map(|r| unsafe { (r.gsi, r.u.irqchip.irqchip, r.u.irqchip.pin) })
            .collect();
        assert!(chips.contains(&(4, KVM_IRQCHIP_PIC_MASTER, 4)));
        assert!(chips.contains(&(4, KVM_IRQCHIP_IOAPIC, 4)));
        assert!(chips.contains(&(9, KVM_IRQCHIP_PIC_SLAVE, 1)));
        assert!(chips.contains(&(23, KVM_IRQCHIP_IOAPIC, 23)));
        assert!(!chips.iter().any(|c| c.0 >= 16 && c.1 != KVM_IRQCHIP_IOAPIC));
    }

    #[test]
    fn test_msi_entry_splits_the_address() {
        let entry = msi_entry(
            30,
            MsiMessage {
                address: 0x1_fee0_1000,
                data: 0x4041,
            },
        );
        assert_eq!((entry.gsi, entry.type_), (30, KVM_IRQ_ROUTING_MSI));
        // SAFETY: msi_entry builds the msi variant.
        let msi = unsafe { entry.u.msi };
        assert_eq!(
            (msi.address_lo, msi.address_hi, msi.data),
            (0xfee0_1000, 1, 0x4041)
        );
    }
}
