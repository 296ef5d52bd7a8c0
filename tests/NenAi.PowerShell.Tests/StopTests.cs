using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NenAi.TestSupport;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Ctrl+C (PowerShell.Stop()) returns quickly, leaves no request running and a journal that tells the truth.</summary>
    public class StopTests : HostedTest
    {
        private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

        private void AssertNothingLeftRunning() =>
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)), $"{State.RequestsInFlight} request(s) still running");

        /// <summary>Longer than any check below: a request that was not really cancelled would still be running.</summary>
        private const int Hang = 60_000;

        [Fact]
        public void StoppingASlowBatchReturnsPromptlyAndTheJournalMatchesTheLedger()
        {
            string journal = Path.Combine(TestDrive, "batch.jsonl");
            var rows = CsvRows.Numbered(60);
            const string command = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -ThrottleLimit 4 -JournalPath $journal";
            // Six rows go through; then every run is recorded by the server but answered only after a minute.
            State.Faults.Script(new ScriptedFault { Kind = "latency", Route = "POST /runs", Count = 6 });
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1000, LatencyMs = Hang });

            using (RunningScript running = Ps.Start(command, ("rows", rows), ("journal", journal)))
            {
                Assert.True(running.WaitForOutput(6, TimeSpan.FromSeconds(30)), "the batch never got going");
                Assert.True(Eventually.True(() => State.RequestsInFlight >= 4, TimeSpan.FromSeconds(30)), "no request was hanging");
                TimeSpan took = running.Stop();
                Assert.True(took < Prompt, $"Stop() took {took.TotalMilliseconds:0} ms");
                Assert.True(running.Wait(TimeSpan.FromSeconds(10)).Stopped);
            }
            AssertNothingLeftRunning();

            // Every run the server started is in the journal: accepted with its message id, or "unknown".
            var records = JournalFile.LastRecords(journal);
            var byIdempotencyKey = records.Values.ToDictionary(r => r.GetProperty("idempotencyKey").GetString()!);
            foreach (LedgerEntry run in State.Ledger)
            {
                Assert.True(byIdempotencyKey.TryGetValue(run.IdempotencyKey!, out JsonElement record), $"run {run.MessageId} is not in the journal");
                string state = record.GetProperty("state").GetString()!;
                Assert.True(state == "Unknown" || (state == "Accepted" && record.GetProperty("messageId").GetString() == run.MessageId), $"run {run.MessageId} is '{state}' in the journal");
            }
            var ledgerIds = State.Ledger.Select(e => e.MessageId).ToHashSet();
            foreach (JsonElement record in records.Values.Where(r => r.GetProperty("state").GetString() == "Accepted"))
                Assert.Contains(record.GetProperty("messageId").GetString()!, ledgerIds);
            Assert.DoesNotContain(records.Values, r => r.GetProperty("state").GetString() == "Submitting");
            Assert.True(records.Values.Count(r => r.GetProperty("state").GetString() == "Unknown") >= 4, "the stopped requests are 'unknown'");
            Assert.True(records.Count < rows.Length, "the stop came too late to prove anything");

            // The same command again (resending "unknown" rows with their key) completes the batch: one run per row.
            State.Faults.Clear();
            Run(command + " -RetryUnknown | Out-Null", ("rows", rows), ("journal", journal)).AssertClean();
            Assert.Equal(rows.Length, State.Ledger.Count);
            Assert.Equal(rows.Length, State.Ledger.Select(e => (string)e.Params["NAME"]!).Distinct().Count());
        }

        [Fact]
        public void StoppingALongWaitReturnsPromptly()
        {
            string id = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Parse("NAME\nslow"))).AssertClean().Strings("MessageId").Single()!;

            // The third status query hangs: Ctrl+C must cut it.
            State.Faults.Script(new ScriptedFault { Kind = "latency", Route = "GET /runs", Count = 2 });
            State.Faults.Script(new ScriptedFault { Kind = "latency", Route = "GET /runs", Count = 1000, LatencyMs = Hang });
            using RunningScript running = Ps.Start("$id | Wait-NenRun -PollIntervalSec 0.2", ("id", id));
            Assert.True(Eventually.True(() => State.GetsFor(id) >= 3 && State.RequestsInFlight >= 1, TimeSpan.FromSeconds(30)), "no query was hanging");
            TimeSpan took = running.Stop();

            Assert.True(took < Prompt, $"Stop() took {took.TotalMilliseconds:0} ms");
            PsResult r = running.Wait(TimeSpan.FromSeconds(10));
            Assert.True(r.Stopped);
            Assert.Empty(r.Output);
            AssertNothingLeftRunning();
        }

        [Fact]
        public void StoppingASlowDownloadReturnsPromptlyAndLeavesNoFileLookingComplete()
        {
            string id = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Parse("NAME\nbig")))
                .AssertClean().Strings("MessageId").Single()!;
            State.Faults.Replace(new FaultSettings { DownloadBytesPerSecond = 20_000 });

            using RunningScript running = Ps.Start("$id | Get-NenRunResult -Destination $TestDrive", ("id", id));
            Assert.True(Eventually.True(() => State.Downloads >= 1, TimeSpan.FromSeconds(30)), "no download started");
            TimeSpan took = running.Stop();

            Assert.True(took < Prompt, $"Stop() took {took.TotalMilliseconds:0} ms");
            Assert.True(running.Wait(TimeSpan.FromSeconds(10)).Stopped);
            AssertNothingLeftRunning();

            // Every file under its final name is complete (the size the service announced, and its bytes); what the
            // stop cut short is only ever a .partial. And the stop did cut something short, or this proves nothing.
            var announced = Run("Get-NenRun -MessageId $id", ("id", id)).AssertClean().Output.Single().Properties["Results"].Value is NenAi.Core.Models.ResultLink[] files
                ? files.ToDictionary(f => f.Name, f => f.Size!.Value) : throw new InvalidOperationException("no results");
            string folder = Path.Combine(TestDrive, id);
            var final = Directory.Exists(folder)
                ? Directory.GetFiles(folder).Where(f => !f.EndsWith(".partial", StringComparison.Ordinal) && !f.EndsWith(".partial.etag", StringComparison.Ordinal)).ToList()
                : new System.Collections.Generic.List<string>();
            foreach (string file in final)
            {
                string name = Path.GetFileName(file);
                Assert.True(announced.TryGetValue(name, out long size), $"'{name}' is no result of the run");
                Assert.Equal(size, new FileInfo(file).Length);
            }
            Assert.True(final.Count < announced.Count, "every file was complete: the stop came too late to prove anything");
            string dataBin = Path.Combine(folder, "data.bin");
            if (File.Exists(dataBin))
            {
                // The emulator's content is deterministic per run: a complete data.bin is exactly the service's bytes.
                State.Faults.Replace(new FaultSettings());
                string again = Path.Combine(TestDrive, "again");
                Run("$id | Get-NenRunResult -Destination $again", ("id", id), ("again", again)).AssertClean();
                Assert.Equal(File.ReadAllBytes(Path.Combine(again, id, "data.bin")), File.ReadAllBytes(dataBin));
            }
        }
    }
}
