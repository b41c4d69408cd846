from .connector import main

main()
