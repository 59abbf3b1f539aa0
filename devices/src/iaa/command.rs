//! Administrative commands (the CMD register), executed at once: each
//! returns the CMDSTS value the driver then reads (0 is success; the error
//! codes are `enum idxd_cmdsts_err`'s).

use super::config::IaaConfig;
use super::registers::Registers;
use super::regs::*;

/// What a command needs besides the registers.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The device's shape.
    pub config: IaaConfig,
    /// The PCI command register's bus master enable.
    pub bus_master: bool,
}

/// Runs command `cmd` (the CMD value); returns CMDSTS.
pub fn execute(regs: &mut Registers, cmd: u32, ctx: Context) -> u32 {
    let operand = cmd & CMD_OPERAND_MASK;
    match (cmd >> CMD_CODE_SHIFT) & 0x1f {
        cmd::ENABLE_DEVICE => enable_device(regs, ctx),
        cmd::DISABLE_DEVICE => {
            if !regs.enabled {
                return cmdsts::DIS_DEV_EN;
            }
            regs.enabled = false;
            regs.wq_enabled.fill(false);
            0
        }
        // Descriptors run to completion as they are submitted, so there is
        // never anything to drain or abort.
        cmd::DRAIN_ALL | cmd::ABORT_ALL | cmd::DRAIN_PASID | cmd::ABORT_PASID => 0,
        cmd::RESET_DEVICE => {
            regs.reset();
            0
        }
        cmd::ENABLE_WQ => enable_wq(regs, operand, ctx),
        cmd::DISABLE_WQ => for_wqs(regs, operand, |regs, wq| regs.wq_enabled[wq] = false),
        cmd::DRAIN_WQ | cmd::ABORT_WQ => for_wqs(regs, operand, |_, _| {}),
        cmd::RESET_WQ => for_wqs(regs, operand, |regs, wq| {
            regs.wq_enabled[wq] = false;
            regs.wqcfg.clear_entry(wq);
        }),
        _ => cmdsts::INVAL_CMD,
    }
}

/// The WQs a bitmask operand names: bits 15:0 select WQs 16n..16n+15,
/// where n is bits 19:16.
fn wq_mask(operand: u32) -> impl Iterator<Item = usize> {
    let base = ((operand >> 16) & 0xf) as usize * 16;
    (0..16)
        .filter(move |bit| operand & (1 << bit) != 0)
        .map(move |bit| base + bit)
}

fn for_wqs(regs: &mut Registers, operand: u32, mut f: impl FnMut(&mut Registers, usize)) -> u32 {
    if !regs.enabled {
        return cmdsts::DEV_NOT_EN;
    }
    if wq_mask(operand).any(|wq| wq >= regs.wq_enabled.len()) {
        return cmdsts::INVAL_WQIDX;
    }
    for wq in wq_mask(operand) {
        f(regs, wq);
    }
    0
}

/// WQ `wq`'s size, if it is in a group that has an engine.
fn wq_size_and_group_ok(regs: &Registers, wq: usize, ctx: Context) -> (u32, bool) {
    let size = regs.wqcfg.dword(wq, 0) & 0xffff;
    let engines_mask = u64::MAX >> (64 - u32::from(ctx.config.engines));
    let grouped = (0..usize::from(ctx.config.groups)).any(|g| {
        let wqs = regs.grpcfg.qword(g, wq / 64);
        wqs & (1 << (wq % 64)) != 0 && regs.grpcfg.qword(g, 4) & engines_mask != 0
    });
    (size, grouped)
}

fn enable_device(regs: &mut Registers, ctx: Context) -> u32 {
    if regs.enabled {
        return cmdsts::DEV_ENABLED;
    }
    if !ctx.bus_master {
        return cmdsts::BUSMASTER_EN;
    }
    let total: u32 = (0..regs.wq_enabled.len())
        .map(|wq| regs.wqcfg.dword(wq, 0) & 0xffff)
        .sum();
    if total > u32::from(ctx.config.total_wq_size) {
        return cmdsts::WQ_SIZE_ERANGE;
    }
    regs.enabled = true;
    0
}

fn enable_wq(regs: &mut Registers, operand: u32, ctx: Context) -> u32 {
    let Some(wq) = usize::try_from(operand)
        .ok()
        .filter(|wq| *wq < regs.wq_enabled.len())
    else {
        return cmdsts::INVAL_WQIDX;
    };
    if !regs.enabled {
        return cmdsts::DEV_NOTEN;
    }
    if regs.wq_enabled[wq] {
        return cmdsts::WQ_ENABLED;
    }
    let (size, grouped) = wq_size_and_group_ok(regs, wq, ctx);
    if size == 0 {
        return cmdsts::WQ_SIZE;
    }
    if !grouped {
        return cmdsts::CONFIG;
    }
    let mode = regs.wqcfg.dword(wq, 2);
    if mode & WQCFG_MODE_DEDICATED == 0 {
        return cmdsts::WQ_MODE;
    }
    if mode & WQCFG_PASID_EN != 0 {
        return cmdsts::PASID_EN;
    }
    let max_xfer_shift = regs.wqcfg.dword(wq, 3) & 0x1f;
    if max_xfer_shift > u32::from(ctx.config.max_transfer_shift) {
        return cmdsts::MAX_XFER_SIZE;
    }
    regs.wq_enabled[wq] = true;
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            config: IaaConfig::default(),
            bus_master: true,
        }
    }

    fn command(code: u32, operand: u32) -> u32 {
        CMD_INT_REQ | (code << CMD_CODE_SHIFT) | operand
    }

    /// WQ 0 dedicated, size 16, max transfer 2 MiB, in group 0 with engine 0.
    fn configure(regs: &mut Registers) {
        regs.write(WQCFG_TABLE, &16u32.to_le_bytes());
        regs.write(WQCFG_TABLE + 8, &(1u32 | (10 << 4)).to_le_bytes());
        regs.write(WQCFG_TABLE + 12, &21u32.to_le_bytes());
        regs.write(GRPCFG_TABLE, &1u64.to_le_bytes());
        regs.write(GRPCFG_TABLE + GRPCFG_ENGINES, &1u64.to_le_bytes());
    }

    #[test]
    fn test_enable_device_needs_bus_master_and_only_once() {
        let mut regs = Registers::new(IaaConfig::default());
        let off = Context {
            bus_master: false,
            ..ctx()
        };
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_DEVICE, 0), off),
            cmdsts::BUSMASTER_EN
        );
        assert_eq!(execute(&mut regs, command(cmd::ENABLE_DEVICE, 0), ctx()), 0);
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_DEVICE, 0), ctx()),
            cmdsts::DEV_ENABLED
        );
    }

    #[test]
    fn test_enable_wq_checks_state_and_configuration() {
        let mut regs = Registers::new(IaaConfig::default());
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx()),
            cmdsts::DEV_NOTEN
        );
        execute(&mut regs, command(cmd::ENABLE_DEVICE, 0), ctx());
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx()),
            cmdsts::WQ_SIZE
        );
        regs.write(WQCFG_TABLE, &16u32.to_le_bytes());
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx()),
            cmdsts::CONFIG
        );
        configure(&mut regs);
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_WQ, 9), ctx()),
            cmdsts::INVAL_WQIDX
        );
        assert_eq!(execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx()), 0);
        assert_eq!(
            execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx()),
            cmdsts::WQ_ENABLED
        );
    }

    #[test]
    fn test_reset_wq_disables_and_clears_its_configuration() {
        let mut regs = Registers::new(IaaConfig::default());
        execute(&mut regs, command(cmd::ENABLE_DEVICE, 0), ctx());
        configure(&mut regs);
        execute(&mut regs, command(cmd::ENABLE_WQ, 0), ctx());
        assert_eq!(execute(&mut regs, command(cmd::DRAIN_WQ, 1), ctx()), 0);
        assert_eq!(execute(&mut regs, command(cmd::RESET_WQ, 1), ctx()), 0);
        assert!(!regs.wq_enabled[0]);
        assert_eq!(regs.wqcfg.dword(0, 0), 0, "sticky-OR safe");
        assert_eq!(
            execute(&mut regs, command(cmd::RESET_WQ, 1 << 16 | 1), ctx()),
            cmdsts::INVAL_WQIDX
        );
    }

    #[test]
    fn test_disable_and_unknown_commands() {
        let mut regs = Registers::new(IaaConfig::default());
        assert_eq!(
            execute(&mut regs, command(cmd::DISABLE_DEVICE, 0), ctx()),
            cmdsts::DIS_DEV_EN
        );
        assert_eq!(
            execute(&mut regs, command(cmd::DRAIN_WQ, 1), ctx()),
            cmdsts::DEV_NOT_EN
        );
        assert_eq!(execute(&mut regs, command(13, 1), ctx()), cmdsts::INVAL_CMD);
        assert_eq!(execute(&mut regs, command(0, 0), ctx()), cmdsts::INVAL_CMD);
    }
}
