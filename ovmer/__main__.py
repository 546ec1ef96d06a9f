from ovmer.cli import main

raise SystemExit(main())
