using System.Diagnostics;
using System.Reflection;

namespace Native.Map.Tests.Support;

/// <summary>Runs Native.Map.StressHost in a child process with a timeout; its path is embedded at build time.</summary>
internal static class StressHostRunner
{
    /// <summary>What a child run produced.</summary>
    public sealed record Result(int ExitCode, string StdOut, string StdErr, bool TimedOut, TimeSpan Elapsed)
    {
        public override string ToString() =>
            $"exit code {ExitCode}{(TimedOut ? " (killed: timed out)" : "")} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Tail(StdOut)}\nstderr:\n{Tail(StdErr)}";

        private static string Tail(string s) => s.Length <= 4000 ? s : "..." + s[^4000..];
    }

    /// <summary>Full path of Native.Map.StressHost.dll, as resolved by the ProjectReference of the test project.</summary>
    public static string DllPath { get; } = Locate();

    private static string Locate()
    {
        string? path = typeof(StressHostRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "StressHostPath")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new FileNotFoundException($"Native.Map.StressHost.dll not found at '{path}': build the solution (the test project references the host).");
        }
        return path;
    }

    /// <summary>The dotnet host running this test process (the SDK sets DOTNET_HOST_PATH), or "dotnet" from PATH.</summary>
    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";

    /// <summary>Runs the host with <paramref name="args"/>; kills the whole process tree after <paramref name="timeout"/>.</summary>
    public static Result Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        var sw = Stopwatch.StartNew();
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the stress host");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        bool exited = p.WaitForExit(timeout);
        if (!exited)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        return new Result(exited ? p.ExitCode : -1, stdout.Result, stderr.Result, !exited, sw.Elapsed);
    }
}
