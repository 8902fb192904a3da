module github.com/gantry-etc/gantry

go 1.26.8
