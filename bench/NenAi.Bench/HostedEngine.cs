using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Security;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>
    /// A PowerShell 7.6 runspace in this process with NenAi imported through the manifest of the laid-out module
    /// (bin/…/NenAi/NenAi.psd1), as a user's pwsh imports it; -BaseUri, -ApiKey and -SigningKey come from
    /// $PSDefaultParameterValues so the scripts read as a user's would with NEN_* set.
    /// </summary>
    public sealed class HostedEngine : IDisposable
    {
        private readonly Runspace _runspace;

        public static string Manifest => Path.Combine(AppContext.BaseDirectory, "NenAi", "NenAi.psd1");

        public HostedEngine(Uri baseUri, string apiKey, string signingKey)
        {
            if (!File.Exists(Manifest)) throw new FileNotFoundException("The laid-out module is missing; build the bench project first.", Manifest);
            InitialSessionState iss = InitialSessionState.CreateDefault2();
            // An embedding host reads no powershell.config.json: on Windows the default policy would refuse the .psm1.
            if (OperatingSystem.IsWindows()) iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
            iss.ImportPSModule(Manifest);
            iss.ThrowOnRunspaceOpenError = true;
            _runspace = RunspaceFactory.CreateRunspace(iss);
            _runspace.Open();
            Run(@"$PSDefaultParameterValues['*-Nen*:BaseUri'] = $baseUri
                  $PSDefaultParameterValues['*-Nen*:ApiKey'] = $apiKey
                  $PSDefaultParameterValues['*-Nen*:SigningKey'] = $signingKey",
                new Dictionary<string, object?> { ["baseUri"] = baseUri.ToString(), ["apiKey"] = Secure(apiKey), ["signingKey"] = Secure(signingKey) }).ThrowIfFailed("configuring the session");
        }

        /// <summary>
        /// Runs <paramref name="script"/> to the end. It waits on a thread of its own, never on a thread-pool thread: a
        /// blocked pool thread on a 2-core machine starves the client's own I/O until the pool adds a thread, which
        /// showed up as 0.6-0.9 s stalls in the first version of this benchmark (a harness artefact: pwsh's pipeline
        /// thread is not a pool thread). <paramref name="onOutput"/> sees each object as the pipeline writes it.
        /// </summary>
        public Task<HostedRun> RunAsync(string script, IReadOnlyDictionary<string, object?>? variables = null, Action<PSObject>? onOutput = null) =>
            Task.Factory.StartNew(() => Run(script, variables, onOutput), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        private HostedRun Run(string script, IReadOnlyDictionary<string, object?>? variables = null, Action<PSObject>? onOutput = null)
        {
            if (variables != null)
                foreach (var v in variables) _runspace.SessionStateProxy.SetVariable(v.Key, v.Value);
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(script);
            using var output = new PSDataCollection<PSObject>();
            if (onOutput != null) output.DataAdded += (_, e) => onOutput(output[e.Index]);
            var clock = Stopwatch.StartNew();
            ps.Invoke<PSObject, PSObject>(null, output, null);
            TimeSpan elapsed = clock.Elapsed;
            return new HostedRun(elapsed, output.Count, ps.Streams.Error.Count, ps.Streams.Progress.Count,
                ps.Streams.Error.Count > 0 ? ps.Streams.Error[0].ToString() : null);
        }

        private static SecureString Secure(string text)
        {
            SecureString s = new NetworkCredential(string.Empty, text).SecurePassword;
            s.MakeReadOnly();
            return s;
        }

        public void Dispose() => _runspace.Dispose();
    }

    /// <summary>What one hosted script did: its time, output and error counts, and progress records written.</summary>
    public sealed record HostedRun(TimeSpan Elapsed, int Outputs, int Errors, int ProgressRecords, string? FirstError)
    {
        public HostedRun ThrowIfFailed(string what, int? expectedOutputs = null)
        {
            if (Errors > 0) throw new InvalidOperationException($"{what}: {Errors} error(s), the first: {FirstError}");
            if (expectedOutputs is int n && Outputs != n) throw new InvalidOperationException($"{what}: {Outputs} objects written, {n} expected");
            return this;
        }
    }
}
