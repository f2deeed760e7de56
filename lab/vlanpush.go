package lab

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// VLANPush is a tc egress program on one end of a pair that tags every frame
// leaving it with an 802.1Q VLAN id via bpf_skb_vlan_push. With the veth's
// tx VLAN offload on (the default), the tag travels as skb metadata and the
// receiver sees it the way a NIC with VLAN offload delivers it: not in the
// packet bytes, but in the XDP VLAN metadata and in __sk_buff->vlan_tci.
type VLANPush struct {
	prog  *ebpf.Program
	end   *End
	filt  *netlink.BpfFilter
	qdisc *netlink.GenericQdisc
}

// AttachVLANPush adds a clsact qdisc to e's link and attaches a direct-action
// cls_bpf egress filter that pushes tag vid. It needs Linux 4.x tc and works
// on 6.1 (no tcx).
func AttachVLANPush(e *End, vid uint16) (*VLANPush, error) {
	if vid == 0 || vid > 4094 {
		return nil, fmt.Errorf("check vlan id %d: outside 1..4094", vid)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    "lab_vlan_push",
		Type:    ebpf.SchedCLS,
		License: "GPL",
		Instructions: asm.Instructions{
			// bpf_skb_vlan_push(skb, htons(ETH_P_8021Q), vid)
			asm.Mov.Imm(asm.R2, 0x0081), // htons(0x8100) on little-endian
			asm.Mov.Imm(asm.R3, int32(vid)),
			asm.FnSkbVlanPush.Call(),
			asm.Mov.Imm(asm.R0, 0), // TC_ACT_OK
			asm.Return(),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("load vlan push program: %w", err)
	}
	v := &VLANPush{prog: prog, end: e}
	nl := e.NS.Netlink()
	v.qdisc = &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: e.Index,
			Handle:    netlink.MakeHandle(0xffff, 0),
			Parent:    netlink.HANDLE_CLSACT,
		},
		QdiscType: "clsact",
	}
	if err := nl.QdiscAdd(v.qdisc); err != nil {
		prog.Close()
		return nil, fmt.Errorf("add clsact qdisc to %s: %w", e.Link, err)
	}
	v.filt = &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{
			LinkIndex: e.Index,
			Parent:    netlink.HANDLE_MIN_EGRESS,
			Handle:    netlink.MakeHandle(0, 1),
			Protocol:  unix.ETH_P_ALL,
			Priority:  1,
		},
		Fd:           prog.FD(),
		Name:         "lab_vlan_push",
		DirectAction: true,
	}
	if err := nl.FilterAdd(v.filt); err != nil {
		v.Close()
		return nil, fmt.Errorf("attach vlan push to %s: %w", e.Link, err)
	}
	return v, nil
}

// Close removes the filter and the qdisc and unloads the program.
func (v *VLANPush) Close() error {
	var errs []error
	nl := v.end.NS.Netlink()
	if v.qdisc != nil {
		// Deleting clsact removes its filters too.
		if err := nl.QdiscDel(v.qdisc); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
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
