from consentry_admin.cli import main

main()
