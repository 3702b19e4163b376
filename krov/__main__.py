from krov.cli import main

main()
