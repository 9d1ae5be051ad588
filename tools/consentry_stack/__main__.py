from consentry_stack.cli import main

main()
