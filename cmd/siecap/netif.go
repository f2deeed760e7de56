package main

import (
	"fmt"
	"net"
)

// interfaceUp reports whether the named interface exists and is up.
func interfaceUp(name string) (bool, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return false, fmt.Errorf("look up interface %s: %w", name, err)
	}
	if ifc.Flags&net.FlagUp == 0 {
		return false, fmt.Errorf("interface %s is down", name)
	}
	return true, nil
}
