using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// `--smoke` runs BenchmarkDotNet's short job (3 warm-ups, 3 iterations, one launch): figures good to an order of
// magnitude. `--check` runs every benchmark once, in this process, and exits non-zero when one fails: the test suite's
// check that each still runs, with no figures worth reading. Without either, the default job gives the figures. Every
// other argument (--filter, --list, ...) goes to BenchmarkDotNet.
var smoke = args.Contains("--smoke");
var check = args.Contains("--check");
var job = check ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("check")
    : smoke ? Job.ShortRun.WithId("smoke")
    : Job.Default.WithId("full");
var config = DefaultConfig.Instance
    .AddJob(job)
    // Index and hashing benchmarks count operations (or MiB) per call: Op/s is the figure the goals are stated in.
    .AddColumn(StatisticColumn.OperationsPerSecond)
    .WithOptions(ConfigOptions.JoinSummary);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a is not ("--smoke" or "--check"))], config);
var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
return failed ? 1 : 0;
