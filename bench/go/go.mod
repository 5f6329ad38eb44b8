module cogo.example/bench

go 1.23
