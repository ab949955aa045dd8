module crashbench.dev/earlylocale

go 1.26
