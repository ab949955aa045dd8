// Package bugcheck embeds what is known about Windows bug checks as data, so
// it can be reviewed and corrected without touching code: Microsoft's text
// for every documented stop code, and the names of the drivers that ship
// with Windows. core/codes and core/analyze parse it; each file's header
// says where its content comes from and how it is laid out.
package bugcheck

import _ "embed"

// Codes holds every stop code of Microsoft's "Bug check code reference":
// name, one-line description and the meaning of parameters 1-4, with the
// value tables the pages give. See the file's header for the format.
//
//go:embed bugchecks.txt
var Codes string

// MicrosoftDrivers lists the kernel modules that ship with Windows, one file
// name a line; a second field "kernel" marks the kernel and HAL images.
//
//go:embed microsoft-drivers.txt
var MicrosoftDrivers string
