module nativemap.local/gomap

go 1.19
