using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Core.Models;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Downloads a finished run's presigned results to Destination/&lt;messageId&gt;/: safe names only, laid out by
    /// <see cref="RunFolderLayout"/> (working files apart from every result name), written to a partial file and put
    /// under the result's name only when complete and of the announced size, resumed with Range (and If-Range, so a
    /// changed file is fetched whole) after an interruption, complete files skipped, expired URLs refreshed through
    /// the retrieval endpoint. Bodies stream to disk through a small buffer, so memory stays flat whatever a file's
    /// size. A run's files download at once, at most <see cref="ResultDownloadOptions.MaxConcurrency"/> requests in
    /// flight across every run this downloader serves (lookups and link refreshes included). A file that cannot be
    /// written (a full disk) is an error at once, never retried as if the network had failed. Every wait is bounded by
    /// the request timeout: for the headers, and between any two reads of the body, so a server that stalls mid-file
    /// ends in an error, never a hang. Attempts per file are bounded by the retry count, with back-off that honours
    /// Retry-After. A failed run's files (its logs, partial assets: spec §11 Q3) are saved the same way, and its failure
    /// is reported after them. The run lookups and the downloads share one <see cref="BatchCircuit"/>: refused
    /// credentials stop every later lookup; a 429/503 from the storage pauses every download; and storage that stalls,
    /// fails or cannot be reached, for more than one file and longer than one file's retries would take (with a probe
    /// sent after the streak began failing too, so at least two request timeouts of a stall), stops them all with one
    /// reason instead of one error per file. So does a destination that no run's files can be written to (read-only,
    /// access denied, too long, full: <see cref="DestinationCheck"/>, asked once a run's folder or file could not be
    /// written), which stops every lookup and download with one reason (<see cref="StoppedBecause"/>).
    /// </summary>
    public sealed class ResultDownloader
    {
        private const int MaxLinkRefreshes = 2;
        private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);
        private readonly NenApiClient _client;
        private readonly ResultDownloadOptions _options;
        private readonly INenLog _log;
        /// <summary>Requests in flight at once, across every run: file transfers, run lookups and link refreshes.</summary>
        private readonly SemaphoreSlim _requests;
        /// <summary>Set once no new file may start (the first error with StopAtFirstError, or <see cref="Stop"/>).</summary>
        private volatile bool _stopping;
        private readonly object _destinationGate = new object();
        /// <summary>Why no run's files can be written to the destination, once a run's failure showed it (<see cref="DestinationCheck"/>).</summary>
        private NenException? _destinationProblem;

        public ResultDownloader(NenApiClient client, ResultDownloadOptions options, INenLog? log = null)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _options = options ?? throw new ArgumentNullException(nameof(options));
            if (options.MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(options), "The concurrency must be at least 1.");
            _log = RedactingLog.Wrap(log);
            _requests = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
            Circuit = BatchCircuit.For(client.Options);
            Circuit.ReadOutageWindow = BatchCircuit.ReadOutageWindowFor(client.Options);
        }

        /// <summary>The one circuit of the run lookups and the downloads (which carry no Nen credentials, but can find no server).</summary>
        public BatchCircuit Circuit { get; }

        /// <summary>Requests in flight at most (-ThrottleLimit).</summary>
        public int MaxConcurrency => _options.MaxConcurrency;

        /// <summary>No new file starts (nor a new attempt at one); the transfers in flight finish. Files not started are reported not downloaded.</summary>
        public void Stop() => _stopping = true;

        /// <summary>True once <see cref="Stop"/> was called or an error stopped the downloads (StopAtFirstError).</summary>
        public bool Stopping => _stopping;

        /// <summary>
        /// Why every run's downloads stopped, once they have: the service (<see cref="Circuit"/> tripped: refused
        /// credentials, an outage) or the destination (no run's files can be written there); null while they go on.
        /// </summary>
        public NenException? StoppedBecause
        {
            get
            {
                if (Circuit.TrippedByService) return Circuit.ClosedBecause;
                lock (_destinationGate) return _destinationProblem;
            }
        }

        /// <summary>
        /// True for an error of a status read (the run's lookup, or a refresh of its links): its status could not be read,
        /// so nothing is known to have failed (the run is not downloaded, never "failed"), whatever the error says.
        /// </summary>
        public bool StatusNotRead(NenException error) => _statusReadErrors.TryGetValue(error, out _);

        /// <summary>The errors status reads threw (by identity; the errors themselves keep no mark).</summary>
        private readonly ConditionalWeakTable<NenException, object> _statusReadErrors = new ConditionalWeakTable<NenException, object>();
        private static readonly object StatusReadMark = new object();

        /// <summary>
        /// True when <paramref name="error"/> is the reason every run's downloads stopped (<see cref="StoppedBecause"/>) or
        /// the same answer met by a request on the wire with it: counted in that one error, not an error of its own.
        /// </summary>
        public bool StoppedBy(NenException error)
        {
            if (Circuit.StoppedBy(error)) return true;
            lock (_destinationGate) return _destinationProblem != null && ReferenceEquals(error, _destinationProblem);
        }

        /// <summary>
        /// A run's folder or file could not be written: when the destination itself refuses (every run would meet it),
        /// that is the one reason all the downloads stop, returned (and nothing is sent any more); null when the failure
        /// was the run's own.
        /// </summary>
        private NenException? DestinationRefuses(PathLimit paths)
        {
            NenException? problem;
            lock (_destinationGate)
            {
                if (_destinationProblem != null) return _destinationProblem;
                problem = DestinationCheck.Problem(_options.Destination, paths);
                if (problem is null) return null;
                _destinationProblem = problem;
            }
            _log.Verbose($"Downloads stopped: {problem.Message}");
            Circuit.Close(problem); // no lookup or download starts any more
            return problem;
        }

        /// <summary>
        /// Downloads every result of the run; a file's failure is recorded and the others go on (unless
        /// <see cref="ResultDownloadOptions.StopAtFirstError"/>). A failed run's files are saved too, and its failure is
        /// the last error; a failed run without files throws it. The files and errors come in the order the run lists its
        /// results (an archive's unpacked files right after it), whatever order they finished in.
        /// </summary>
        public async Task<RunDownloadResult> DownloadAsync(RunSnapshot run, CancellationToken cancellationToken = default)
        {
            RunSnapshot current = run;
            if (!current.IsTerminal || Expired(current)) current = await LookUpAsync(run.MessageId, cancellationToken).ConfigureAwait(false);
            if (!current.IsTerminal)
                throw new NenException(NenErrorIds.RunNotComplete, NenErrorCategory.InvalidOperation,
                    $"Run {current.MessageId} is still '{current.Status}'; wait for it (Wait-NenRun) before getting its results.");
            NenException? failed = current.State.IsFailure()
                ? new NenException(NenErrorIds.RunFailed, NenErrorCategory.InvalidResult,
                    $"Run {current.MessageId} ended '{current.Status}': {(string.IsNullOrEmpty(current.Error) ? "the workflow gave no error message" : current.Error)}"
                    + (current.Results.Count > 0 ? $" The {current.Results.Count} file(s) it left (logs, partial results) were saved to be looked at." : string.Empty))
                { ServerMessage = current.Error }
                : null;
            if (failed != null && current.Results.Count == 0) throw failed;

            PathLimit paths = _options.PathLimit ?? PathLimit.ForThisProcess();
            // The destination refused an earlier run's folder: this run is not downloaded either, and has no error of its own.
            lock (_destinationGate) if (_destinationProblem != null) throw _destinationProblem;
            string runFolder = SafeFileName.Validate(current.MessageId, "run");
            try
            {
                runFolder = SafeFileName.Combine(_options.Destination, runFolder, paths, $"the folder of run {current.MessageId}", folder: true);
                paths.Check(runFolder, folder: true, $"the folder of run {current.MessageId}");
            }
            catch (NenException ex) when (ex.ErrorId == NenErrorIds.PathTooLong)
            {
                throw DestinationRefuses(paths) ?? ex; // too long for every run's folder, or for this run's long id alone
            }
            try
            {
                Directory.CreateDirectory(runFolder);
            }
            catch (Exception ex) when (IsFileSystemFailure(ex))
            {
                throw DestinationRefuses(paths) ?? new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                    $"The folder for run {current.MessageId} could not be created under '{_options.Destination}': {ex.Message}", ex);
            }
            var result = new RunDownloadResult { Run = current, RunSucceeded = failed is null };
            var refresher = new UrlRefresher(this, current);
            var names = new List<string?>();
            foreach (ResultLink file in current.Results) names.Add(file.Name);
            var layout = new RunFolderLayout(runFolder, current.MessageId, names, paths);
            // Every file at once: the request limit, shared by every run, decides how many are on the wire.
            var outcomes = new FileOutcome[names.Count];
            var work = new Task[names.Count];
            for (int i = 0; i < names.Count; i++)
            {
                outcomes[i] = new FileOutcome(names[i]);
                work[i] = SaveAsync(current.MessageId, i, outcomes[i], layout, refresher, paths, cancellationToken);
            }
            await Task.WhenAll(work).ConfigureAwait(false);
            foreach (FileOutcome outcome in outcomes)
            {
                result.Files.AddRange(outcome.Files);
                result.Errors.AddRange(outcome.Errors);
                if (outcome.NotDownloaded) result.NotDownloaded.Add(outcome.Name ?? string.Empty);
            }
            layout.RemoveEmptyWorkFolder();
            if (failed != null) result.Errors.Add(failed);
            return result;
        }

        /// <summary>What became of one result: saved (with what was unpacked from it), its errors, or not downloaded because the downloads stopped first.</summary>
        private sealed class FileOutcome(string? name)
        {
            public string? Name { get; } = name;
            public List<DownloadedFile> Files { get; } = new List<DownloadedFile>();
            public List<NenException> Errors { get; } = new List<NenException>();
            public bool NotDownloaded { get; set; }
        }

        /// <summary>One result of the run, start to end: its own failure is recorded in <paramref name="outcome"/>, never thrown.</summary>
        private async Task SaveAsync(string messageId, int index, FileOutcome outcome, RunFolderLayout layout, UrlRefresher refresher, PathLimit paths, CancellationToken ct)
        {
            string? name = outcome.Name;
            try
            {
                // Runs on the caller's thread until its first request waits, so the files queue for the wire in the run's order.
                if (_stopping || Circuit.ClosedBecause != null) { outcome.NotDownloaded = true; return; }
                string target = layout.TargetOf(index);
                DownloadedFile local = await DownloadFileAsync(messageId, name!, target, layout, refresher, ct).ConfigureAwait(false);
                outcome.Files.Add(local);
                if (_options.Expand && local.Name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                {
                    string folder;
                    lock (layout) folder = layout.ExpandFolderOf(local.Name); // the layout hands out each folder name once
                    ExtractedArchive unpacked = new SafeZipExtractor(_options.MaxExpandedBytes, _options.MaxZipEntries, paths)
                        .Extract(local.Path, folder, layout.StagingOf(local.Name), _options.Force);
                    foreach (string path in unpacked.Files)
                        outcome.Files.Add(new DownloadedFile(messageId, Path.GetFileName(path), path, new FileInfo(path).Length, skipped: unpacked.AlreadyThere, expanded: true));
                    outcome.Errors.AddRange(unpacked.Conflicts);
                }
            }
            catch (NenException ex) when (StoppedFirst(ex))
            {
                outcome.NotDownloaded = true; // counted in the one reason the downloads stopped, not an error of its own
            }
            catch (NenException ex)
            {
                if (ex.InnerException is Exception cause && RefusedEverywhere(cause) && DestinationRefuses(paths) != null) outcome.NotDownloaded = true;
                else Record(outcome, ex);
            }
            catch (Exception ex) when (IsFileSystemFailure(ex))
            {
                if (RefusedEverywhere(ex) && DestinationRefuses(paths) != null) outcome.NotDownloaded = true;
                else Record(outcome, new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                    $"Result '{SafeFileName.Printable(name)}' of run {messageId} could not be written: {ex.Message}", ex));
            }
        }

        /// <summary>
        /// A file's write failure that may be the destination's (access denied, read-only, a full disk or quota), so worth
        /// asking <see cref="DestinationCheck"/> about (a disk that has room again by then is not stopped for).
        /// </summary>
        private static bool RefusedEverywhere(Exception ex) => FileErrors.IsWriteRefused(ex) || FileErrors.IsDiskFull(ex);

        private void Record(FileOutcome outcome, NenException error)
        {
            outcome.Errors.Add(error);
            if (_options.StopAtFirstError) _stopping = true; // the command stops at this error: no other file starts
        }

        /// <summary>Not downloaded because the downloads stopped first: not sent, or met the very reason the service (or the destination) stopped them for.</summary>
        private bool StoppedFirst(NenException ex) => ex is NenNotSentException || StoppedBy(ex);

        /// <summary>
        /// What a disk or path can throw: I/O errors (a full disk), access denied, a damaged archive, bad path
        /// characters, and a file-size limit (which .NET reports as ArgumentOutOfRangeException).
        /// </summary>
        private static bool IsFileSystemFailure(Exception ex) =>
            ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException || ex is ArgumentException || ex is NotSupportedException;

        private static bool Expired(RunSnapshot status) =>
            status.ExpiresAt.HasValue && status.ExpiresAt.Value <= DateTimeOffset.UtcNow + ExpiryMargin;

        /// <summary>GET /runs/{id} as one of the requests in flight.</summary>
        private async Task<RunSnapshot> LookUpAsync(string messageId, CancellationToken ct)
        {
            await _requests.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return await _client.GetRunAsync(messageId, ct, Circuit).ConfigureAwait(false);
            }
            catch (NenException ex)
            {
                _statusReadErrors.GetValue(ex, _ => StatusReadMark);
                throw;
            }
            finally
            {
                _requests.Release();
            }
        }

        /// <summary>What one attempt at a file says about the storage, for the circuit.</summary>
        private enum Verdict
        {
            /// <summary>The storage answered (the file came, or a definite answer about it).</summary>
            Answered,
            /// <summary>429/503: provably not served, and the storage asks to slow down.</summary>
            Refused,
            /// <summary>An ambiguous failure: a 5xx or 408, a reset, no connection, a timeout, a stall, a body cut short.</summary>
            Failed,
        }

        /// <summary>How one attempt ended: the file saved, or the error to try again after, or fresh links wanted; and its verdict.</summary>
        private readonly struct Attempt
        {
            public Attempt(DownloadedFile? saved, NenException? retry, bool refresh, Verdict verdict) { Saved = saved; Retry = retry; Refresh = refresh; Verdict = verdict; }
            public DownloadedFile? Saved { get; }
            public NenException? Retry { get; }
            public bool Refresh { get; }
            public Verdict Verdict { get; }
            public static Attempt Done(DownloadedFile file) => new Attempt(file, null, false, Verdict.Answered);
            public static Attempt Again(NenException error, Verdict verdict) => new Attempt(null, error, false, verdict);
            public static readonly Attempt NewLinks = new Attempt(null, null, true, Verdict.Answered);
        }

        /// <summary>One file's download and what it needs between attempts.</summary>
        private sealed class FileJob(string messageId, string name, string target, RunFolderLayout layout)
        {
            public string MessageId { get; } = messageId;
            public string Name { get; } = name;
            public string Target { get; } = target;
            public RunFolderLayout Layout { get; } = layout;
            public string Partial { get; } = layout.PartialOf(name);
            public string ValidatorFile { get; } = layout.ValidatorOf(name);
            /// <summary>The ETag or Last-Modified of the version the partial file holds.</summary>
            public string? Validator { get; set; }
            public int Refreshes { get; set; }
            /// <summary>Names the file to the circuit: one file's streak of failures is not an outage.</summary>
            public string Item => MessageId + "/" + Name;
        }

        private async Task<DownloadedFile> DownloadFileAsync(string messageId, string name, string target, RunFolderLayout layout, UrlRefresher refresher, CancellationToken ct)
        {
            ResultLink file = refresher.Find(name);
            if (File.Exists(target) && !_options.Force && (file.Size is null || new FileInfo(target).Length == file.Size))
            {
                _log.Verbose($"{messageId}/{name}: already complete, skipped.");
                return new DownloadedFile(messageId, name, target, new FileInfo(target).Length, skipped: true, contentType: file.ContentType);
            }

            var job = new FileJob(messageId, name, target, layout);
            if (_options.Force) Discard(job.Partial, job.ValidatorFile);
            Directory.CreateDirectory(layout.WorkFolder);
            job.Validator = File.Exists(job.Partial) && File.Exists(job.ValidatorFile) ? File.ReadAllText(job.ValidatorFile) : null;
            var budget = new RetryBudget(_client.Options.MaximumRetryCount, _client.Options.MaximumRetryDuration, _client.Options.RetryBaseDelay);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (_stopping) throw NotStarted(messageId, name);
                file = refresher.Find(name);
                long have = File.Exists(job.Partial) ? new FileInfo(job.Partial).Length : 0;
                if (file.Size.HasValue && have > file.Size.Value) { Discard(job.Partial, job.ValidatorFile); have = 0; }
                if (file.Size.HasValue && have == file.Size.Value && have > 0) return Finish(job, file.ContentType);

                Attempt attempt;
                await _requests.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (_stopping) throw NotStarted(messageId, name); // stopped while this file waited for its turn
                    // Downloads go through the batch's one circuit like its API requests: they wait while a probe tests
                    // storage that failed, stop when it trips, and their own failures are its evidence.
                    Admission admission = await Circuit.EnterAsync(ct).ConfigureAwait(false);
                    try
                    {
                        attempt = await AttemptAsync(job, file, have, ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        Circuit.Abandoned(admission);
                        throw;
                    }
                    catch
                    {
                        Circuit.Answered(admission); // a definite failure of this file (or of our disk): the storage answered
                        // Before its place on the wire is handed on, so that no other file takes it once the command is to stop.
                        if (_options.StopAtFirstError) _stopping = true;
                        throw;
                    }
                    switch (attempt.Verdict)
                    {
                        case Verdict.Refused:
                            if (Circuit.Throttled(admission, attempt.Retry!.RetryAfter, attempt.Retry) is NenException storm) throw storm;
                            break;
                        case Verdict.Failed:
                            if (Circuit.ReadFailed(admission, attempt.Retry!, job.Item) is NenException outage) throw outage;
                            break;
                        default:
                            Circuit.Answered(admission);
                            break;
                    }
                }
                finally
                {
                    _requests.Release();
                }
                if (attempt.Saved != null) return attempt.Saved;
                if (attempt.Refresh)
                {
                    await refresher.RefreshAsync(file, ct).ConfigureAwait(false);
                    continue;
                }

                NenException retry = attempt.Retry!;
                // A 429/503 is waited out for the retry budget's time, as every request of the batch waits it out (the circuit
                // paused them all, and trips when the storm outlasts the budget); -MaximumRetryCount counts the other failures.
                if (!budget.TryNext(retry.RetryAfter, out TimeSpan delay, counted: attempt.Verdict != Verdict.Refused))
                {
                    // Its retries are spent, but other files are failing with it: the circuit judges (an outage, or an answer).
                    // Once it has stopped the downloads, this one is not sent again, like the others it stopped.
                    if (await Circuit.KeepReadingAsync(ct).ConfigureAwait(false)) continue;
                    throw new NenException(retry.ErrorId, retry.Category,
                        $"{retry.Message} Gave up after {budget.RetriesUsed + 1} attempt(s); what arrived is kept and a later call resumes it.", retry)
                    { StatusCode = retry.StatusCode, IsTransient = true };
                }
                _log.Verbose($"{messageId}/{name}: {retry.ErrorId}, trying again{(attempt.Verdict == Verdict.Refused ? " after the pause" : $" in {delay.TotalMilliseconds:0} ms")} (retry {budget.RetriesUsed}).");
                // A refusal's wait is the circuit's pause (every download waits it out); any other failure backs off on its own.
                if (attempt.Verdict != Verdict.Refused) await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }

        /// <summary>A file the downloads stopped before (an error that stops the command): not downloaded, kept for a later call.</summary>
        private static NenNotSentException NotStarted(string messageId, string name) =>
            new NenNotSentException($"'{name}' of run {messageId} was not downloaded: the downloads stopped first. What arrived of it is kept; a later call resumes it.", NenErrorCategory.OperationStopped);

        /// <summary>One request for the file and, when it is served, its body to disk.</summary>
        private async Task<Attempt> AttemptAsync(FileJob job, ResultLink file, long have, CancellationToken ct)
        {
            string messageId = job.MessageId, name = job.Name;
            HttpResponseMessage response;
            try
            {
                response = await _client.OpenDownloadAsync(file.Url, have, have > 0 ? job.Validator : null, ct).ConfigureAwait(false);
            }
            catch (ProxyRefusedException ex)
            {
                // A proxy that turns the storage's address away turns every file away: one error stops them all.
                throw Circuit.Refused(ex);
            }
            catch (NenTransportException ex)
            {
                return Attempt.Again(ex, Verdict.Failed); // no connection, a reset, no answer in time: the storage's trouble, or ours
            }
            using (response)
            {
                int code = (int)response.StatusCode;
                TimeSpan? retryAfter = RetryAfter.Read(response, DateTimeOffset.UtcNow);
                if (code == 403 || code == 410)
                {
                    // Presigned URLs expire; the retrieval endpoint hands out fresh ones.
                    if (job.Refreshes++ >= MaxLinkRefreshes) throw new NenException(NenErrorIds.DownloadExpired, NenErrorCategory.PermissionDenied,
                        $"The download link for '{name}' of run {messageId} keeps being refused (HTTP {code}), even after fresh links were fetched.") { StatusCode = response.StatusCode };
                    _log.Verbose($"{messageId}/{name}: link refused (HTTP {code}), fetching fresh links.");
                    return Attempt.NewLinks;
                }
                if (code == 404)
                    throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"The result '{name}' of run {messageId} does not exist on the server (HTTP 404).") { StatusCode = response.StatusCode };
                if (code == 416)
                {
                    Discard(job.Partial, job.ValidatorFile);
                    return Attempt.Again(Failed(name, messageId, "the server refused to resume it (HTTP 416)", code, retryAfter), Verdict.Answered);
                }
                if (code == 429 || code == 503) return Attempt.Again(Failed(name, messageId, $"HTTP {code}", code, retryAfter), Verdict.Refused);
                if (code != 200 && code != 206)
                {
                    NenException error = Failed(name, messageId, $"HTTP {code}", code, retryAfter);
                    if (code >= 500 || code == 408) return Attempt.Again(error, Verdict.Failed);
                    throw error;
                }

                bool append = code == 206;
                if (append && !RangeMatches(response, have, file.Size))
                {
                    // Not the rest of this file: appending it would corrupt the result.
                    Discard(job.Partial, job.ValidatorFile);
                    return Attempt.Again(new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                        $"The server's partial answer for '{name}' of run {messageId} does not continue the {have:N0} bytes already here (Content-Range {response.Content.Headers.ContentRange}); it was refused.") { IsTransient = true }, Verdict.Answered);
                }
                if (!append)
                {
                    have = 0;
                    job.Validator = DownloadValidator.From(response);
                    if (job.Validator != null) File.WriteAllText(job.ValidatorFile, job.Validator);
                    else if (File.Exists(job.ValidatorFile)) File.Delete(job.ValidatorFile);
                }
                long? announced = response.Content.Headers.ContentLength.HasValue ? have + response.Content.Headers.ContentLength.Value : (long?)null;
                long limit = file.Size ?? announced ?? _options.MaxFileBytes;
                if (limit > _options.MaxFileBytes || (announced.HasValue && announced.Value > limit))
                {
                    throw new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                        $"The result '{name}' of run {messageId} is larger than expected ({announced ?? limit:N0} bytes; expected at most {Math.Min(limit, _options.MaxFileBytes):N0}). It was not saved.");
                }
                long written;
                try
                {
                    written = await CopyAsync(response, job.Partial, append, limit - have, ct).ConfigureAwait(false);
                }
                catch (LocalWriteException ex)
                {
                    // The disk, not the network: trying again would fail the same way (and waste the bandwidth).
                    long saved = File.Exists(job.Partial) ? new FileInfo(job.Partial).Length : 0;
                    throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                        $"Result '{SafeFileName.Printable(name)}' of run {messageId} could not be written to '{job.Layout.RunFolder}': {ex.InnerException!.Message.TrimEnd('.', ' ')}. Free space (or fix the folder), then run Get-NenRunResult again: the {saved:N0} bytes saved are resumed.", ex.InnerException);
                }
                catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
                {
                    return Attempt.Again(new NenException(NenErrorIds.Timeout, NenErrorCategory.OperationTimeout,
                        $"Downloading '{name}' of run {messageId} stalled: no data for {_client.Options.Timeout.TotalSeconds:0.#} s. The part received is kept for a resume.", ex) { IsTransient = true }, Verdict.Failed);
                }
                catch (Exception ex) when (ex is IOException || ex is HttpRequestException || ex is ObjectDisposedException)
                {
                    return Attempt.Again(new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ConnectionError,
                        $"Downloading '{name}' of run {messageId} was interrupted: {ex.GetType().Name}.", ex) { IsTransient = true }, Verdict.Failed);
                }
                if (written < 0)
                {
                    Discard(job.Partial, job.ValidatorFile);
                    throw new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                        $"The result '{name}' of run {messageId} sent more than its announced {limit:N0} bytes. It was not saved.");
                }
                long total = have + written;
                long? expected = file.Size ?? announced;
                if (expected.HasValue && total != expected.Value)
                {
                    // The body ended early (the connection closed): ambiguous, like a reset.
                    return Attempt.Again(new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                        $"The result '{name}' of run {messageId} has {total:N0} bytes where {expected.Value:N0} were announced.") { IsTransient = true }, Verdict.Failed);
                }
                return Attempt.Done(Finish(job, file.ContentType));
            }
        }

        private static NenException Failed(string name, string messageId, string what, int code, TimeSpan? retryAfter) =>
            new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ResourceUnavailable, $"Downloading '{name}' of run {messageId} failed: {what}.")
            { StatusCode = (System.Net.HttpStatusCode)code, RetryAfter = retryAfter, IsTransient = true };

        /// <summary>A 206 must continue exactly where the partial file ends, and describe the same file.</summary>
        private static bool RangeMatches(HttpResponseMessage response, long have, long? size)
        {
            var range = response.Content.Headers.ContentRange;
            if (range is null || !range.HasRange || range.From != have) return false;
            if (size.HasValue && range.HasLength && range.Length != size.Value) return false;
            long? length = response.Content.Headers.ContentLength;
            return !(length.HasValue && range.To.HasValue && range.To.Value - range.From.Value + 1 != length.Value);
        }

        private DownloadedFile Finish(FileJob job, string? contentType)
        {
            // A scanner or the indexer may hold the old file (or the new one) for a moment.
            FileRetry.MoveIntoPlace(job.Partial, job.Target);
            if (File.Exists(job.ValidatorFile)) File.Delete(job.ValidatorFile);
            long length = new FileInfo(job.Target).Length;
            _log.Verbose($"{job.MessageId}/{job.Name}: saved {length:N0} bytes.");
            return new DownloadedFile(job.MessageId, job.Name, job.Target, length, skipped: false, contentType: contentType);
        }

        private static void Discard(string partial, string validatorFile)
        {
            if (File.Exists(partial)) File.Delete(partial);
            if (File.Exists(validatorFile)) File.Delete(validatorFile);
        }

        /// <summary>
        /// Copies at most <paramref name="maxBytes"/> (returns -1 when the body is longer). Each read must bring data
        /// within the request timeout: a stalled body is torn down (which also ends a read that ignores tokens) and
        /// ends in OperationCanceledException. Whatever the file side throws (a full disk, a file-size limit) comes out
        /// as <see cref="LocalWriteException"/>, so it is never taken for a network failure.
        /// </summary>
        private async Task<long> CopyAsync(HttpResponseMessage response, string path, bool append, long maxBytes, CancellationToken ct)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            idle.CancelAfter(_client.Options.Timeout);
            using Stream body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            using CancellationTokenRegistration teardown = idle.Token.Register(() => body.Dispose());
            FileStream output = Local(() => new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true));
            bool written = false;
            try
            {
                byte[] buffer = new byte[81920];
                long total = 0;
                while (true)
                {
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer, 0, buffer.Length, idle.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (idle.IsCancellationRequested && !(ex is OperationCanceledException))
                    {
                        throw new OperationCanceledException("The download stalled.", ex, idle.Token);
                    }
                    if (read == 0) break;
                    idle.CancelAfter(_client.Options.Timeout); // data arrived: the idle clock starts again
                    total += read;
                    if (total > maxBytes) return -1;
                    try
                    {
                        await output.WriteAsync(buffer, 0, read, ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsFileSystemFailure(ex))
                    {
                        throw new LocalWriteException(ex);
                    }
                }
                try
                {
                    await output.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsFileSystemFailure(ex))
                {
                    throw new LocalWriteException(ex);
                }
                written = true;
                return total;
            }
            finally
            {
                // After a failed write the buffer cannot be flushed either; that second failure says nothing new.
                try { output.Dispose(); }
                catch (Exception ex) when (!written && IsFileSystemFailure(ex)) { }
            }
        }

        private static T Local<T>(Func<T> open)
        {
            try
            {
                return open();
            }
            catch (Exception ex) when (IsFileSystemFailure(ex))
            {
                throw new LocalWriteException(ex);
            }
        }

        /// <summary>The local file could not be written; its inner exception says why.</summary>
        private sealed class LocalWriteException : Exception
        {
            public LocalWriteException(Exception inner) : base(inner.Message, inner) { }
        }

        /// <summary>
        /// Holds a run's latest links and fetches new ones when they expire: once for all of the run's files whose links
        /// expired together (each asks with the link it was refused, and a link already replaced is not asked for again).
        /// </summary>
        private sealed class UrlRefresher
        {
            private readonly ResultDownloader _owner;
            private readonly SemaphoreSlim _one = new SemaphoreSlim(1, 1);
            private volatile RunSnapshot _status;

            public UrlRefresher(ResultDownloader owner, RunSnapshot status) { _owner = owner; _status = status; }

            public ResultLink Find(string name)
            {
                foreach (ResultLink f in _status.Results) if (f.Name == name) return f;
                throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"Run {_status.MessageId} no longer lists the result '{name}'.");
            }

            /// <summary>Fresh links, unless <paramref name="refused"/> was replaced already (another file of the run asked first).</summary>
            public async Task RefreshAsync(ResultLink refused, CancellationToken ct)
            {
                await _one.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (!ReferenceEquals(Find(refused.Name), refused)) return;
                    _status = await _owner.LookUpAsync(_status.MessageId, ct).ConfigureAwait(false);
                }
                finally
                {
                    _one.Release();
                }
            }
        }
    }
}
