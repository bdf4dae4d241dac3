using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Native.Map.Bench.Config;

/// <summary>
/// Iteration caps for suites where one invocation is a whole-table operation of
/// <see cref="Suites.Work.PerInvocation"/> entries (about a second at 10^7): BenchmarkDotNet's default
/// job may take up to 100 iterations of those, so the default is capped at 4–8 warm-up and 5–15
/// measured iterations. A job that fixes its own counts (<c>--job short</c>: 3 warm-up, 3 measured)
/// keeps them: this is a mutator, and only characteristics the job leaves unset are filled in.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class WholeTableJobAttribute : Attribute, IConfigSource
{
    /// <inheritdoc/>
    public IConfig Config { get; } = ManualConfig.CreateEmpty().AddJob(
        Job.Default
            .WithMinWarmupCount(4)
            .WithMaxWarmupCount(8)
            .WithMinIterationCount(5)
            .WithMaxIterationCount(15)
            .AsMutator());
}
