from benchmarks.scenarios.runner import main

raise SystemExit(main())
