from cloudtolocalllm_relay.cli import main

raise SystemExit(main())
