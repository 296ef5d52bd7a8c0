using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
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
    /// the retrieval endpoint. A file that cannot be written (a full disk) is an error at once, never retried as if
    /// the network had failed. Every wait is bounded by the request timeout: for the headers, and between any two
    /// reads of the body, so a server that stalls mid-file ends in an error, never a hang. Attempts per file are
    /// bounded by the retry count, with back-off that honours Retry-After. A failed run's files (its logs, partial
    /// assets: spec §11 Q3) are saved the same way, and its failure is reported after them. The run lookups and the
    /// downloads share one <see cref="BatchCircuit"/>, so refused credentials stop every later lookup, and storage that no
    /// connection reaches beyond the retry budget stops every later download.
    /// </summary>
    public sealed class ResultDownloader
    {
        private const int MaxLinkRefreshes = 2;
        /// <summary>Files in a row that no connection reached (each after its retries) that stop the downloads.</summary>
        private const int UnreachableFilesToStop = 2;
        private int _unreachableFilesInARow;
        private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);
        private readonly NenApiClient _client;
        private readonly ResultDownloadOptions _options;
        private readonly INenLog _log;

        public ResultDownloader(NenApiClient client, ResultDownloadOptions options, INenLog? log = null)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _log = RedactingLog.Wrap(log);
            Circuit = BatchCircuit.For(client.Options);
        }

        /// <summary>The one circuit of the run lookups and the downloads (which carry no Nen credentials, but can find no server).</summary>
        public BatchCircuit Circuit { get; }

        /// <summary>
        /// Downloads every result of the run; a file's failure is recorded and the others go on (unless
        /// <see cref="ResultDownloadOptions.StopAtFirstError"/>). A failed run's files are saved too, and its failure is
        /// the last error; a failed run without files throws it.
        /// </summary>
        public async Task<RunDownloadResult> DownloadAsync(RunSnapshot run, CancellationToken cancellationToken = default)
        {
            RunSnapshot current = run;
            if (!current.IsTerminal || Expired(current)) current = await _client.GetRunAsync(run.MessageId, cancellationToken, Circuit).ConfigureAwait(false);
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
            string runFolder = SafeFileName.Combine(_options.Destination, SafeFileName.Validate(current.MessageId, "run"), paths, $"the folder of run {current.MessageId}", folder: true);
            paths.Check(runFolder, folder: true, $"the folder of run {current.MessageId}");
            try
            {
                Directory.CreateDirectory(runFolder);
            }
            catch (Exception ex) when (IsFileSystemFailure(ex))
            {
                throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                    $"The folder for run {current.MessageId} could not be created under '{_options.Destination}': {ex.Message}", ex);
            }
            var result = new RunDownloadResult { Run = current, RunSucceeded = failed is null };
            var refresher = new UrlRefresher(_client, current, Circuit);
            var names = new List<string?>();
            foreach (ResultLink file in current.Results) names.Add(file.Name);
            var layout = new RunFolderLayout(runFolder, current.MessageId, names, paths);
            for (int i = 0; i < names.Count; i++)
            {
                if (_options.StopAtFirstError && result.Errors.Count > 0) break; // the command stops at this error: no other file starts
                string? name = names[i];
                try
                {
                    string target = layout.TargetOf(i);
                    DownloadedFile local = await DownloadFileAsync(current.MessageId, name!, target, layout, refresher, cancellationToken).ConfigureAwait(false);
                    Volatile.Write(ref _unreachableFilesInARow, 0);
                    result.Files.Add(local);
                    if (_options.Expand && local.Name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                    {
                        ExtractedArchive unpacked = new SafeZipExtractor(_options.MaxExpandedBytes, _options.MaxZipEntries, paths)
                            .Extract(local.Path, layout.ExpandFolderOf(local.Name), layout.StagingOf(local.Name), _options.Force);
                        foreach (string path in unpacked.Files)
                            result.Files.Add(new DownloadedFile(current.MessageId, Path.GetFileName(path), path, new FileInfo(path).Length, skipped: unpacked.AlreadyThere, expanded: true));
                        result.Errors.AddRange(unpacked.Conflicts);
                    }
                }
                catch (NenException ex)
                {
                    result.Errors.Add(ex);
                }
                catch (Exception ex) when (IsFileSystemFailure(ex))
                {
                    result.Errors.Add(new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                        $"Result '{SafeFileName.Printable(name)}' of run {current.MessageId} could not be written: {ex.Message}", ex));
                }
            }
            layout.RemoveEmptyWorkFolder();
            if (failed != null) result.Errors.Add(failed);
            return result;
        }

        /// <summary>
        /// What a disk or path can throw: I/O errors (a full disk), access denied, a damaged archive, bad path
        /// characters, and a file-size limit (which .NET reports as ArgumentOutOfRangeException).
        /// </summary>
        private static bool IsFileSystemFailure(Exception ex) =>
            ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException || ex is ArgumentException || ex is NotSupportedException;

        private static bool Expired(RunSnapshot status) =>
            status.ExpiresAt.HasValue && status.ExpiresAt.Value <= DateTimeOffset.UtcNow + ExpiryMargin;

        private async Task<DownloadedFile> DownloadFileAsync(string messageId, string name, string target, RunFolderLayout layout, UrlRefresher refresher, CancellationToken ct)
        {
            ResultLink file = refresher.Find(name);
            if (File.Exists(target) && !_options.Force && (file.Size is null || new FileInfo(target).Length == file.Size))
            {
                _log.Verbose($"{messageId}/{name}: already complete, skipped.");
                return new DownloadedFile(messageId, name, target, new FileInfo(target).Length, skipped: true, contentType: file.ContentType);
            }

            string partial = layout.PartialOf(name);
            string validatorFile = layout.ValidatorOf(name);
            if (_options.Force) Discard(partial, validatorFile);
            Directory.CreateDirectory(layout.WorkFolder);
            string? validator = File.Exists(partial) && File.Exists(validatorFile) ? File.ReadAllText(validatorFile) : null;
            var budget = new RetryBudget(_client.Options.MaximumRetryCount, _client.Options.MaximumRetryDuration, _client.Options.RetryBaseDelay);
            int refreshes = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                file = refresher.Find(name);
                long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                if (file.Size.HasValue && have > file.Size.Value) { Discard(partial, validatorFile); have = 0; }
                if (file.Size.HasValue && have == file.Size.Value && have > 0) return Finish(messageId, name, target, partial, validatorFile, file.ContentType);

                NenException retry;
                HttpResponseMessage? response = null;
                // Downloads go through the batch's one circuit like its API requests, so they stop when it trips; and
                // storage that no connection reaches for several files in a row trips it (one error, not one per file).
                Admission admission = await Circuit.EnterAsync(ct).ConfigureAwait(false);
                try
                {
                    response = await _client.OpenDownloadAsync(file.Url, have, have > 0 ? validator : null, ct).ConfigureAwait(false);
                    Circuit.Answered(admission);
                }
                catch (ProxyRefusedException ex)
                {
                    // A proxy that turns the storage's address away turns every file away: one error stops them all.
                    throw Circuit.Refused(ex);
                }
                catch (NenTransportException ex)
                {
                    Circuit.Abandoned(admission);
                    retry = ex;
                    goto Retry;
                }
                catch
                {
                    Circuit.Abandoned(admission);
                    throw;
                }
                using (response)
                {
                    int code = (int)response.StatusCode;
                    TimeSpan? retryAfter = RetryAfter.Read(response, DateTimeOffset.UtcNow);
                    if (code == 403 || code == 410)
                    {
                        // Presigned URLs expire; the retrieval endpoint hands out fresh ones.
                        if (refreshes++ >= MaxLinkRefreshes) throw new NenException(NenErrorIds.DownloadExpired, NenErrorCategory.PermissionDenied,
                            $"The download link for '{name}' of run {messageId} keeps being refused (HTTP {code}), even after fresh links were fetched.") { StatusCode = response.StatusCode };
                        _log.Verbose($"{messageId}/{name}: link refused (HTTP {code}), fetching fresh links.");
                        await refresher.RefreshAsync(ct).ConfigureAwait(false);
                        continue;
                    }
                    if (code == 404)
                        throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"The result '{name}' of run {messageId} does not exist on the server (HTTP 404).") { StatusCode = response.StatusCode };
                    if (code == 416)
                    {
                        Discard(partial, validatorFile);
                        retry = Failed(name, messageId, "the server refused to resume it (HTTP 416)", code, retryAfter);
                        goto Retry;
                    }
                    if (code != 200 && code != 206)
                    {
                        retry = Failed(name, messageId, $"HTTP {code}", code, retryAfter);
                        if (code >= 500 || code == 429 || code == 408) goto Retry;
                        throw retry;
                    }

                    bool append = code == 206;
                    if (append && !RangeMatches(response, have, file.Size))
                    {
                        // Not the rest of this file: appending it would corrupt the result.
                        Discard(partial, validatorFile);
                        retry = new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                            $"The server's partial answer for '{name}' of run {messageId} does not continue the {have:N0} bytes already here (Content-Range {response.Content.Headers.ContentRange}); it was refused.") { IsTransient = true };
                        goto Retry;
                    }
                    if (!append)
                    {
                        have = 0;
                        validator = DownloadValidator.From(response);
                        if (validator != null) File.WriteAllText(validatorFile, validator);
                        else if (File.Exists(validatorFile)) File.Delete(validatorFile);
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
                        written = await CopyAsync(response, partial, append, limit - have, ct).ConfigureAwait(false);
                    }
                    catch (LocalWriteException ex)
                    {
                        // The disk, not the network: trying again would fail the same way (and waste the bandwidth).
                        long saved = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                        throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                            $"Result '{SafeFileName.Printable(name)}' of run {messageId} could not be written to '{layout.RunFolder}': {ex.InnerException!.Message.TrimEnd('.', ' ')}. Free space (or fix the folder), then run Get-NenRunResult again: the {saved:N0} bytes saved are resumed.", ex.InnerException);
                    }
                    catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
                    {
                        retry = new NenException(NenErrorIds.Timeout, NenErrorCategory.OperationTimeout,
                            $"Downloading '{name}' of run {messageId} stalled: no data for {_client.Options.Timeout.TotalSeconds:0.#} s. The part received is kept for a resume.", ex) { IsTransient = true };
                        goto Retry;
                    }
                    catch (Exception ex) when (ex is IOException || ex is HttpRequestException || ex is ObjectDisposedException)
                    {
                        retry = new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ConnectionError,
                            $"Downloading '{name}' of run {messageId} was interrupted: {ex.GetType().Name}.", ex) { IsTransient = true };
                        goto Retry;
                    }
                    if (written < 0)
                    {
                        Discard(partial, validatorFile);
                        throw new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                            $"The result '{name}' of run {messageId} sent more than its announced {limit:N0} bytes. It was not saved.");
                    }
                    long total = have + written;
                    long? expected = file.Size ?? announced;
                    if (expected.HasValue && total != expected.Value)
                    {
                        retry = new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                            $"The result '{name}' of run {messageId} has {total:N0} bytes where {expected.Value:N0} were announced.") { IsTransient = true };
                        goto Retry;
                    }
                    return Finish(messageId, name, target, partial, validatorFile, file.ContentType);
                }

            Retry:
                if (!budget.TryNext(retry.RetryAfter, out TimeSpan delay))
                {
                    var gaveUp = new NenException(retry.ErrorId, retry.Category,
                        $"{retry.Message} Gave up after {budget.RetriesUsed + 1} attempt(s); what arrived is kept and a later call resumes it.", retry)
                    { StatusCode = retry.StatusCode };
                    // One file's host may be gone (its link alone); several files in a row mean the storage is.
                    if (retry is NenTransportException { ProvablyNotSent: true } && Interlocked.Increment(ref _unreachableFilesInARow) >= UnreachableFilesToStop)
                        throw Circuit.Unreachable(gaveUp, UnreachableFilesToStop);
                    throw gaveUp;
                }
                _log.Verbose($"{messageId}/{name}: {retry.ErrorId}, trying again in {delay.TotalMilliseconds:0} ms (retry {budget.RetriesUsed}).");
                await Task.Delay(delay, ct).ConfigureAwait(false);
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

        private DownloadedFile Finish(string messageId, string name, string target, string partial, string validatorFile, string? contentType)
        {
            // A scanner or the indexer may hold the old file (or the new one) for a moment.
            FileRetry.MoveIntoPlace(partial, target);
            if (File.Exists(validatorFile)) File.Delete(validatorFile);
            long length = new FileInfo(target).Length;
            _log.Verbose($"{messageId}/{name}: saved {length:N0} bytes.");
            return new DownloadedFile(messageId, name, target, length, skipped: false, contentType: contentType);
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

        /// <summary>Holds a run's latest links and fetches new ones when they expire.</summary>
        private sealed class UrlRefresher
        {
            private readonly NenApiClient _client;
            private readonly BatchCircuit _circuit;
            private RunSnapshot _status;

            public UrlRefresher(NenApiClient client, RunSnapshot status, BatchCircuit circuit) { _client = client; _status = status; _circuit = circuit; }

            public ResultLink Find(string name)
            {
                foreach (ResultLink f in _status.Results) if (f.Name == name) return f;
                throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"Run {_status.MessageId} no longer lists the result '{name}'.");
            }

            public async Task RefreshAsync(CancellationToken ct) => _status = await _client.GetRunAsync(_status.MessageId, ct, _circuit).ConfigureAwait(false);
        }
    }
}
