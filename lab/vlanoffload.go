package lab

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// VLANOffload is a tc egress program that moves the inline 802.1Q tag of
// every frame leaving a link into skb metadata (bpf_skb_vlan_pop, then
// bpf_skb_vlan_push with the same TCI), so that the receiver gets each
// frame the way a NIC with VLAN offload delivers it, with its own VLAN id.
// Unlike VLANPush, which stamps one id on everything, it keeps the per
// channel ids the feed generator writes. Frames sent with
// PACKET_QDISC_BYPASS skip tc egress and keep their inline tag.
type VLANOffload struct {
	prog  *ebpf.Program
	end   *End
	qdisc *netlink.GenericQdisc
}

// AttachVLANOffload adds a clsact qdisc to e's link and attaches the
// program as a direct-action cls_bpf egress filter (no tcx: works on 6.1).
func AttachVLANOffload(e *End) (*VLANOffload, error) {
	const (
		tcActOK    = 0
		ethP8021Q  = 0x0081 // htons(0x8100) as the program reads it
		stackBytes = -4
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    "lab_vlan_offload",
		Type:    ebpf.SchedCLS,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			// bpf_skb_load_bytes(skb, 12, fp-4, 4): ethertype and TCI
			asm.Mov.Imm(asm.R2, 12),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, stackBytes),
			asm.Mov.Imm(asm.R4, 4),
			asm.FnSkbLoadBytes.Call(),
			asm.JNE.Imm(asm.R0, 0, "pass"),
			asm.LoadMem(asm.R7, asm.RFP, stackBytes, asm.Half),
			asm.JNE.Imm(asm.R7, ethP8021Q, "pass"),
			// r8 = TCI in host order from the two bytes after the TPID
			asm.LoadMem(asm.R8, asm.RFP, stackBytes+2, asm.Byte),
			asm.LSh.Imm(asm.R8, 8),
			asm.LoadMem(asm.R9, asm.RFP, stackBytes+3, asm.Byte),
			asm.Or.Reg(asm.R8, asm.R9),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.FnSkbVlanPop.Call(),
			asm.JNE.Imm(asm.R0, 0, "pass"),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Imm(asm.R2, ethP8021Q),
			asm.Mov.Reg(asm.R3, asm.R8),
			asm.FnSkbVlanPush.Call(),
			asm.Mov.Imm(asm.R0, tcActOK).WithSymbol("pass"),
			asm.Return(),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("load vlan offload program: %w", err)
	}
	v := &VLANOffload{prog: prog, end: e}
	nl := e.NS.Netlink()
	v.qdisc = &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: e.Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
		QdiscType:  "clsact",
	}
	err = nl.QdiscAdd(v.qdisc)
	if errors.Is(err, unix.EEXIST) {
		// Left by a run that crashed: the lab's switch port has no other
		// user of clsact.
		if err = nl.QdiscDel(v.qdisc); err == nil {
			err = nl.QdiscAdd(v.qdisc)
		}
	}
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("add clsact qdisc to %s: %w", e.Link, err)
	}
	filt := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: e.Index, Parent: netlink.HANDLE_MIN_EGRESS,
			Handle: netlink.MakeHandle(0, 1), Protocol: unix.ETH_P_ALL, Priority: 1},
		Fd: prog.FD(), Name: "lab_vlan_offload", DirectAction: true,
	}
	if err := nl.FilterAdd(filt); err != nil {
		return nil, errors.Join(fmt.Errorf("attach vlan offload to %s: %w", e.Link, err), v.Close())
	}
	return v, nil
}

// Close removes the qdisc (and with it the filter) and unloads the program.
func (v *VLANOffload) Close() error {
	var errs []error
	if v.qdisc != nil {
		if err := v.end.NS.Netlink().QdiscDel(v.qdisc); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("delete clsact qdisc of %s: %w", v.end.Link, err))
		}
		v.qdisc = nil
	}
	if v.prog != nil {
		errs = append(errs, v.prog.Close())
		v.prog = nil
	}
	return errors.Join(errs...)
}
