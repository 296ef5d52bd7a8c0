using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>What the README says about the emulator: what it prints, where it binds, its sample configuration and admin API.</summary>
    public class EmulatorReadmeTests
    {
        private static readonly HttpClient Http = new HttpClient();

        [Fact]
        public async Task ItPrintsItsUrlDemoCredentialsAndTwoWorkflowsAndCtrlCStopsIt()
        {
            string emulatorArgs = $"\"{Path.Combine(AppContext.BaseDirectory, "NenAi.Emulator.dll")}\" --urls http://127.0.0.1:0";
            // A run started in the background by a script (`./.ci/run &`, nohup) inherits SIGINT as ignored, as
            // shells do for background jobs, and .NET keeps it so: give the emulator Ctrl+C back, as a terminal has it.
            // (`env` execs dotnet, so the process id stays the emulator's.)
            ProcessStartInfo start = InheritsIgnoredSigint()
                ? new ProcessStartInfo("env", "--default-signal=INT dotnet " + emulatorArgs)
                : new ProcessStartInfo("dotnet", emulatorArgs);
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.UseShellExecute = false;
            start.WorkingDirectory = AppContext.BaseDirectory;
            using Process emulator = Process.Start(start)!;
            try
            {
                var lines = new System.Collections.Generic.List<string>();
                string? line;
                while ((line = await emulator.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) != null)
                {
                    lines.Add(line);
                    if (line == "Press Ctrl+C to stop.") break;
                }
                string url = lines[0].Replace("Nen API emulator listening on ", string.Empty);
                Assert.Matches(@"^http://127\.0\.0\.1:\d+$", url);
                Assert.Contains($"  NEN_BASE_URL={url}", lines);
                Assert.Contains("  NEN_API_KEY=nen-demo-api-key", lines);
                Assert.Contains("  NEN_SIGNING_KEY=nen-demo-signing-key", lines);
                Assert.Contains("  NEN_WEBHOOK_SECRET=nen-demo-webhook-secret", lines);
                Assert.Equal(2, lines.Count(l => l.StartsWith("  workflow ", StringComparison.Ordinal)));
                using (HttpResponseMessage health = await Http.GetAsync(url + "/health")) Assert.True(health.IsSuccessStatusCode);

                if (OperatingSystem.IsWindows()) return; // no SIGINT to send there; the finally block ends it
                using (Process ctrlC = Process.Start("kill", $"-INT {emulator.Id}")!) await ctrlC.WaitForExitAsync();
                string rest = await emulator.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
                await emulator.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Contains("Emulator stopped.", rest);
                Assert.Equal(0, emulator.ExitCode);
            }
            finally
            {
                if (!emulator.HasExited) emulator.Kill();
            }
        }

        /// <summary>True on Linux when this process ignores SIGINT (bit 2 of SigIgn), so a child would too.</summary>
        private static bool InheritsIgnoredSigint()
        {
            if (!OperatingSystem.IsLinux()) return false;
            string? mask = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return mask != null && (Convert.ToUInt64(mask.Substring("SigIgn:".Length).Trim(), 16) & 0x2) != 0;
        }

        [Fact]
        public async Task ItBindsLoopbackOnlyUnlessAllowRemote()
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(TestEmulator.DefaultConfig(), "http://0.0.0.0:0"));
            Assert.Contains("--allow-remote", refused.Message);

            await using EmulatorServer remote = await EmulatorServer.StartAsync(TestEmulator.DefaultConfig(), "http://0.0.0.0:0", allowRemote: true);
            Assert.NotNull(remote.BaseUri);
        }

        [Fact]
        public void TheSampleConfigurationHasKeysWorkflowsWithParamsAndSecureParamsDurationsFailureRulesFilesAndFaults()
        {
            EmulatorConfig sample = EmulatorConfig.Load(Path.Combine(AppContext.BaseDirectory, "emulator.sample.json"));

            Assert.Contains(sample.ApiKeys, k => k.Key == "nen-demo-api-key" && k.SigningKey == "nen-demo-signing-key");
            Assert.Equal(2, sample.Workflows.Count);
            WorkflowConfig invoices = sample.Workflows.Single(w => w.Id == "0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21");
            Assert.True(invoices.Params["CUSTOMER_NAME"].Required);
            Assert.True(invoices.DurationMs > 0);
            Assert.Contains(invoices.FailWhen, f => f.EqualsValue == "FAIL");
            Assert.Contains(invoices.Files, f => f.Name == "invoice.txt");
            Assert.Contains(sample.Workflows, w => w.SecureParams.ContainsKey("password"));
            Assert.NotNull(sample.Faults);
        }

        [Fact]
        public async Task ARunGoesQueuedProcessingSuccessOnTheEmulatorsClockAndTheAdminApiShowsAndResetsTheLedger()
        {
            await using var emu = await TestEmulator.StartAsync(c =>
            {
                WorkflowConfig echo = c.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow);
                echo.QueuedMs = 60_000;
                echo.DurationMs = 60_000;
            });
            var client = emu.Client();
            string id = (await client.StartRunAsync(Requests.Echo())).MessageId;

            Assert.Equal("queued", (await client.GetRunAsync(id)).Status);
            await emu.AdvanceClockAsync(61);
            Assert.Equal("processing", (await client.GetRunAsync(id)).Status);
            await emu.AdvanceClockAsync(60);
            Assert.Equal("success", (await client.GetRunAsync(id)).Status);

            using JsonDocument ledger = JsonDocument.Parse(await Http.GetStringAsync(new Uri(emu.BaseUri, "_emulator/ledger")));
            Assert.Equal(id, ledger.RootElement.GetProperty("runs")[0].GetProperty("messageId").GetString());
            using (HttpResponseMessage reset = await Http.PostAsync(new Uri(emu.BaseUri, "_emulator/reset"), null)) reset.EnsureSuccessStatusCode();
            Assert.Empty(emu.State.Ledger);
            await Assert.ThrowsAsync<NenAi.Core.Errors.NenException>(() => client.GetRunAsync(id));
        }
    }
}
