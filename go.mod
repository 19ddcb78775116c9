module github.com/tributary-go/tributary

go 1.24
