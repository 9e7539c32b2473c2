using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// `--smoke` runs BenchmarkDotNet's short job (3 warm-ups, 3 iterations, one launch): a CI check that every benchmark runs,
// with figures good to an order of magnitude. Without it, the default job gives the figures. Every other argument
// (--filter, --list, ...) goes to BenchmarkDotNet.
var smoke = args.Contains("--smoke");
var job = smoke ? Job.ShortRun.WithId("smoke") : Job.Default.WithId("full");
var config = DefaultConfig.Instance
    .AddJob(job)
    // Index and hashing benchmarks count operations (or MiB) per call: Op/s is the figure the goals are stated in.
    .AddColumn(StatisticColumn.OperationsPerSecond)
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a != "--smoke")], config);
