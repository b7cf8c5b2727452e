from backend.launcher.cli import main

raise SystemExit(main())
