using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// `--job short` (BenchmarkDotNet's own flag) is the CI smoke run; the default job gives the figures.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.AddJob(Job.Default.WithId("full")).WithOptions(ConfigOptions.JoinSummary));
