package dump

// fuzzSeeds returns seeds from the other formats' builders.
func fuzzSeeds() [][]byte { return nil }
