using System.Text.RegularExpressions;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.ChildProcess;

/// <summary>
/// Faults survived, proven in child processes: the stress subset under the guard-page allocator
/// (an overrun or use after free kills the child and fails the test), two unsynchronised writers,
/// and seeds that differ between processes. The same scenarios also run in-process under the tracking
/// allocator, which is quicker to debug.
/// </summary>
[TestFixture]
[Category("Stress")]
public sealed partial class ChildProcessStressTests : LeakCheckedTest
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(180);

    private static IEnumerable<string> GuardPageScenarios => StressScenarios.GuardPageSubset;

    /// <summary>The guard allocator catches what it claims to: each self-test must crash the child.</summary>
    [TestCase("selftest-overrun", "AccessViolation")]
    [TestCase("selftest-slack", "overrun past block")]
    [TestCase("selftest-uaf", "AccessViolation")]
    public void GuardPageAllocator_SelfTest_CrashesTheChild(string selftest, string evidence)
    {
        StressHostRunner.Result r = StressHostRunner.Run(TimeSpan.FromSeconds(60), selftest);
        TestContext.Out.WriteLine(r);
        Assert.That(r.TimedOut, Is.False, r.ToString());
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), "the child survived a deliberate memory error: " + r);
        Assert.That(r.StdOut, Does.Not.Contain("NOT CAUGHT"));
        Assert.That(r.StdErr + r.StdOut, Does.Contain(evidence));
    }

    /// <summary>The stress subset under guard pages in a child process: growth, evacuation, iteration while growing/deleting/clearing, abandoned enumerators, indirect slots, same-size growth churn.</summary>
    [TestCaseSource(nameof(GuardPageScenarios))]
    public void Scenario_UnderGuardPages_ChildSurvives(string scenario)
    {
        int seed = TestSeed.Next($"{nameof(Scenario_UnderGuardPages_ChildSurvives)}({scenario})");
        StressHostRunner.Result r = StressHostRunner.Run(ChildTimeout, scenario, seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "1", "guard");
        TestContext.Out.WriteLine(r.StdOut.Trim());
        Assert.That(r.TimedOut, Is.False, "the child hung: " + r);
        Assert.That(r.ExitCode, Is.EqualTo(0), "the child crashed or failed under guard pages: " + r);
        Assert.That(r.StdOut, Does.Contain($"OK {scenario}"));
    }

    /// <summary>The same scenarios in this process, under the tracking allocator (no double free, nothing live afterwards).</summary>
    [TestCaseSource(nameof(GuardPageScenarios))]
    public void Scenario_InProcess_TrackingAllocatorClean(string scenario)
    {
        int seed = TestSeed.Next($"{nameof(Scenario_InProcess_TrackingAllocatorClean)}({scenario})");
        var alloc = new TrackingAllocator();
        string result = StressScenarios.Run(scenario, seed, alloc);
        TestContext.Out.WriteLine(result);
        alloc.AssertClean();
    }

    /// <summary>
    /// Two unsynchronised writers, 200 runs in 40 child processes of 5 runs: each run either refuses
    /// writes with "concurrent map writes" or not, and always ends with a consistent map that holds
    /// exactly the writes that succeeded; never an access violation, never a hang.
    /// </summary>
    [Test]
    public void TwoUnsynchronisedWriters_200Runs_ConsistentOrRefused_NeverCrash()
    {
        const int Processes = 40;
        const int RunsPerProcess = 5;
        int seed = TestSeed.Next(nameof(TwoUnsynchronisedWriters_200Runs_ConsistentOrRefused_NeverCrash));
        var results = new StressHostRunner.Result[Processes];
        Parallel.For(0, Processes, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            results[i] = StressHostRunner.Run(TimeSpan.FromSeconds(60), "writers", (seed + (i * RunsPerProcess)).ToString(System.Globalization.CultureInfo.InvariantCulture), RunsPerProcess.ToString(System.Globalization.CultureInfo.InvariantCulture), "guard"));
        int runs = 0;
        int withConflicts = 0;
        long conflicts = 0;
        foreach (StressHostRunner.Result r in results)
        {
            Assert.That(r.TimedOut, Is.False, "a writers child hung: " + r);
            Assert.That(r.ExitCode, Is.EqualTo(0), "a writers child crashed or found an inconsistent map: " + r);
            foreach (Match m in ConflictsLine().Matches(r.StdOut))
            {
                runs++;
                long c = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                conflicts += c;
                withConflicts += c > 0 ? 1 : 0;
            }
        }
        TestContext.Out.WriteLine($"{runs} runs, {withConflicts} reported 'concurrent map writes' ({conflicts} refused writes in all), every run ended consistent");
        Assert.That(runs, Is.EqualTo(Processes * RunsPerProcess));
    }

    /// <summary>Two processes: the per-process hash secrets differ (same fixed hash0, different hashes), and so do new maps' seeds.</summary>
    [Test]
    public void Seeds_DifferBetweenProcesses()
    {
        StressHostRunner.Result a = StressHostRunner.Run(TimeSpan.FromSeconds(60), "hash");
        StressHostRunner.Result b = StressHostRunner.Run(TimeSpan.FromSeconds(60), "hash");
        Assert.That(a.ExitCode, Is.EqualTo(0), a.ToString());
        Assert.That(b.ExitCode, Is.EqualTo(0), b.ToString());
        Match ma = HashLine().Match(a.StdOut);
        Match mb = HashLine().Match(b.StdOut);
        Assert.That(ma.Success && mb.Success, Is.True, a.StdOut + b.StdOut);
        TestContext.Out.WriteLine(a.StdOut + b.StdOut);
        Assert.That(ma.Groups["fixed"].Value, Is.Not.EqualTo(mb.Groups["fixed"].Value), "the same key under the same hash0 hashes alike in two processes: the secrets are not per process");
        Assert.That(ma.Groups["expanded"].Value, Is.Not.EqualTo(mb.Groups["expanded"].Value));
        Assert.That(ma.Groups["hash0"].Value, Is.Not.EqualTo(mb.Groups["hash0"].Value), "two processes gave their first map the same seed");
    }

    [GeneratedRegex(@"OK writers seed=\d+ conflicts=(\d+) consistent")]
    private static partial Regex ConflictsLine();

    [GeneratedRegex(@"OK hash0=(?<hash0>\d+) fixedSeedHashOf42=(?<fixed>\d+) expanded=(?<expanded>\d+)")]
    private static partial Regex HashLine();
}
