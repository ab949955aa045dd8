package session

import (
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestImageDebugID reads amdppm.sys's RSDS record: the symbol-store key
// of its PDB as rizin's store files it (ORACLE-NOTES: GUID
// {1C19FDDB-27BB-3399-D9B4-5973EFEAFCF3}, age 1).
func TestImageDebugID(t *testing.T) {
	t.Parallel()
	name, id, ok := imageDebugID(fixture.Corpus(t, "rizin-symstore/amdppm.sys/c9c030003b000/amdppm.sys"))
	if !ok || name != "amdppm.pdb" || id != "1C19FDDB27BB3399D9B45973EFEAFCF31" {
		t.Errorf("imageDebugID = %q %q %v", name, id, ok)
	}
}
