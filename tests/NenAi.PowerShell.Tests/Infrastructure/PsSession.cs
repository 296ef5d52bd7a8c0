using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Security;
using System.Threading;
using NenAi.TestSupport;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// A PowerShell 7.6 runspace in this process with NenAi imported through its manifest, as a user's pwsh
    /// imports it: the real binder, pipeline, ShouldProcess, error and stream machinery.
    /// </summary>
    public sealed class PsSession : IDisposable
    {
        /// <summary>The module folder the test build lays out (NenAi.ModuleLayout.targets).</summary>
        public static string ModuleDirectory => Path.Combine(AppContext.BaseDirectory, "NenAi");
        public static string Manifest => Path.Combine(ModuleDirectory, "NenAi.psd1");

        private readonly Runspace _runspace;

        public PsSession(bool importModule = true)
        {
            // CreateDefault (not CreateDefault2) brings the real Microsoft.PowerShell.Utility/Management cmdlets
            // (Import-Csv, Export-Csv, Select-Object, ...) that Microsoft.PowerShell.SDK ships, as pwsh has them.
            InitialSessionState iss = InitialSessionState.CreateDefault();
            // An embedding host reads no powershell.config.json: on Windows the default policy would refuse the .psm1.
            // (Elsewhere there is no execution policy, and setting one throws.)
            if (OperatingSystem.IsWindows()) iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
            if (importModule) iss.ImportPSModule(Manifest);
            iss.ThrowOnRunspaceOpenError = true;
            _runspace = RunspaceFactory.CreateRunspace(iss);
            _runspace.Open();
        }

        /// <summary>
        /// A session aimed at <paramref name="emulator"/>: $PSDefaultParameterValues supply -BaseUri, -ApiKey and
        /// -SigningKey (so no test depends on NEN_* variables), and $echo, $secureWf, $filesWf, $slowWf name its
        /// workflows. <paramref name="defaults"/> = false leaves the configuration to the script.
        /// </summary>
        public static PsSession For(TestEmulator emulator, bool defaults = true)
        {
            var session = new PsSession();
            session.Set("baseUri", emulator.BaseUri.ToString());
            session.Set("apiKey", Secure(TestEmulator.ApiKey));
            session.Set("signingKey", Secure(TestEmulator.SigningKey));
            session.Set("echo", TestEmulator.EchoWorkflow);
            session.Set("secureWf", TestEmulator.SecureWorkflow);
            session.Set("filesWf", TestEmulator.FilesWorkflow);
            session.Set("slowWf", TestEmulator.SlowWorkflow);
            if (defaults)
            {
                session.Run(@"
                    $PSDefaultParameterValues['*-Nen*:BaseUri'] = $baseUri
                    $PSDefaultParameterValues['*-Nen*:ApiKey'] = $apiKey
                    $PSDefaultParameterValues['*-Nen*:SigningKey'] = $signingKey").AssertClean();
            }
            return session;
        }

        public static SecureString Secure(string text)
        {
            SecureString s = new NetworkCredential(string.Empty, text).SecurePassword;
            s.MakeReadOnly();
            return s;
        }

        public void Set(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

        public object? Get(string name) => _runspace.SessionStateProxy.GetVariable(name) is object v ? (v is PSObject p ? p.BaseObject : v) : null;

        /// <summary>Runs <paramref name="script"/> to the end; errors are collected, never thrown.</summary>
        public PsResult Run(string script, params (string Name, object? Value)[] variables)
        {
            using RunningScript running = Start(script, variables);
            return running.Wait(TimeSpan.FromMinutes(5));
        }

        /// <summary>Starts <paramref name="script"/> in the background, for tests that stop it (Ctrl+C) or watch it.</summary>
        public RunningScript Start(string script, params (string Name, object? Value)[] variables)
        {
            foreach (var (name, value) in variables) Set(name, value);
            System.Management.Automation.PowerShell ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = _runspace;
            // try/catch separates the error that ends the script (ThrowTerminatingError, -ErrorAction Stop,
            // binding failures) from non-terminating ones, which catch does not see.
            Set(RunningScript.TerminatingVariable, null);
            ps.AddScript("try {\n" + script + "\n} catch { $global:" + RunningScript.TerminatingVariable + " = $_ }");
            return new RunningScript(ps, this);
        }

        public void Dispose() => _runspace.Dispose();
    }

    /// <summary>A script running in the background: its output can be awaited, and it can be stopped like Ctrl+C.</summary>
    public sealed class RunningScript : IDisposable
    {
        private readonly System.Management.Automation.PowerShell _ps;
        private readonly PSDataCollection<PSObject> _output = new PSDataCollection<PSObject>();
        private readonly IAsyncResult _async;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly SemaphoreSlim _added = new SemaphoreSlim(0);
        private readonly PsSession _session;
        internal const string TerminatingVariable = "__NenTestTerminatingError";

        internal RunningScript(System.Management.Automation.PowerShell ps, PsSession session)
        {
            _ps = ps;
            _session = session;
            _output.DataAdded += (_, _) => _added.Release();
            _async = ps.BeginInvoke<PSObject, PSObject>(null, _output);
        }

        public int OutputCount => _output.Count;

        /// <summary>The warnings written so far (a receiver's "Polling stopped", say), while the script still runs.</summary>
        public WarningRecord[] Warnings
        {
            get
            {
                var warnings = _ps.Streams.Warning;
                var copy = new System.Collections.Generic.List<WarningRecord>();
                for (int i = 0; i < warnings.Count; i++) copy.Add(warnings[i]);
                return copy.ToArray();
            }
        }

        /// <summary>Blocks until the script has written at least <paramref name="count"/> objects (or ended).</summary>
        public bool WaitForOutput(int count, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (_output.Count < count)
            {
                if (_async.IsCompleted) return _output.Count >= count;
                TimeSpan left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero) return false;
                _added.Wait(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
            return true;
        }

        /// <summary>PowerShell.Stop(), what Ctrl+C does; returns how long it took to return.</summary>
        public TimeSpan Stop()
        {
            var sw = Stopwatch.StartNew();
            _ps.Stop();
            return sw.Elapsed;
        }

        public PsResult Wait(TimeSpan timeout)
        {
            var result = new PsResult();
            if (!_async.AsyncWaitHandle.WaitOne(timeout))
            {
                _ps.Stop();
                throw new TimeoutException($"The script did not finish within {timeout}.");
            }
            try
            {
                _ps.EndInvoke(_async);
            }
            catch (PipelineStoppedException)
            {
                result.Stopped = true;
            }
            catch (RuntimeException ex)
            {
                result.Terminating = ex.ErrorRecord;
            }
            result.Elapsed = _clock.Elapsed;
            result.Output.AddRange(_output);
            result.Errors.AddRange(_ps.Streams.Error);
            result.Warning.AddRange(_ps.Streams.Warning);
            result.Verbose.AddRange(_ps.Streams.Verbose);
            result.Debug.AddRange(_ps.Streams.Debug);
            result.Information.AddRange(_ps.Streams.Information);
            result.Progress.AddRange(_ps.Streams.Progress);
            if (_session.Get(TerminatingVariable) is ErrorRecord caught) result.Terminating = caught;
            return result;
        }

        public void Dispose()
        {
            if (!_async.IsCompleted) _ps.Stop();
            _ps.Dispose();
            _output.Dispose();
            _added.Dispose();
        }
    }
}
