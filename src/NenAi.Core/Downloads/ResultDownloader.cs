using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Core.Models;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Downloads a finished run's presigned results to Destination/&lt;messageId&gt;/: safe names only,
    /// written to ".partial" and renamed when complete and of the announced size, resumed with Range after
    /// an interruption, complete files skipped, and expired URLs refreshed through the retrieval endpoint.
    /// </summary>
    public sealed class ResultDownloader
    {
        private const string PartialSuffix = ".partial";
        private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);
        private readonly NenApiClient _client;
        private readonly ResultDownloadOptions _options;
        private readonly INenLog _log;

        public ResultDownloader(NenApiClient client, ResultDownloadOptions options, INenLog? log = null)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _log = RedactingLog.Wrap(log);
        }

        /// <summary>Downloads every result of the run; a file's failure is recorded and the others go on.</summary>
        public async Task<RunDownloadResult> DownloadAsync(RunStatus run, CancellationToken cancellationToken = default)
        {
            RunStatus current = run;
            if (!current.IsTerminal || Expired(current)) current = await _client.GetRunAsync(run.MessageId, cancellationToken).ConfigureAwait(false);
            if (!current.IsTerminal)
                throw new NenException(NenErrorIds.RunNotComplete, NenErrorCategory.InvalidOperation,
                    $"Run {current.MessageId} is still '{current.Status}'; wait for it (Wait-NenRun) before getting its results.");
            if (current.State.IsFailure())
                throw new NenException(NenErrorIds.RunFailed, NenErrorCategory.InvalidResult,
                    $"Run {current.MessageId} ended '{current.Status}': {(string.IsNullOrEmpty(current.Error) ? "the workflow gave no error message" : current.Error)}")
                { ServerMessage = current.Error };

            string runFolder = SafeFileName.Combine(_options.Destination, SafeFileName.Validate(current.MessageId, "run"));
            Directory.CreateDirectory(runFolder);
            var result = new RunDownloadResult();
            var refresher = new UrlRefresher(_client, current);
            foreach (ResultFile file in current.Results)
            {
                try
                {
                    DownloadedFile local = await DownloadFileAsync(current.MessageId, file.Name, runFolder, refresher, cancellationToken).ConfigureAwait(false);
                    result.Files.Add(local);
                    if (_options.Expand && local.Name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                    {
                        string folder = Path.Combine(runFolder, Path.GetFileNameWithoutExtension(local.Name));
                        foreach (string path in SafeZipExtractor.Extract(local.Path, folder, _options.Force))
                            result.Files.Add(new DownloadedFile(current.MessageId, Path.GetFileName(path), path, new FileInfo(path).Length, skipped: false, expanded: true));
                    }
                }
                catch (NenException ex)
                {
                    result.Errors.Add(ex);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
                {
                    result.Errors.Add(new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.WriteError,
                        $"Result '{SafeFileName.Printable(file.Name)}' of run {current.MessageId} could not be written: {ex.Message}", ex));
                }
            }
            return result;
        }

        private static bool Expired(RunStatus status) =>
            status.ExpiresAt.HasValue && status.ExpiresAt.Value <= DateTimeOffset.UtcNow + ExpiryMargin;

        private async Task<DownloadedFile> DownloadFileAsync(string messageId, string name, string folder, UrlRefresher refresher, CancellationToken ct)
        {
            string target = SafeFileName.Combine(folder, name);
            ResultFile file = refresher.Find(name);
            if (File.Exists(target) && !_options.Force && (file.Size is null || new FileInfo(target).Length == file.Size))
            {
                _log.Verbose($"{messageId}/{name}: already complete, skipped.");
                return new DownloadedFile(messageId, name, target, new FileInfo(target).Length, skipped: true);
            }

            string partial = target + PartialSuffix;
            if (_options.Force && File.Exists(partial)) File.Delete(partial);
            int attempts = 0, refreshes = 0;
            NenException? last = null;
            while (attempts < _options.MaxAttempts)
            {
                ct.ThrowIfCancellationRequested();
                attempts++;
                file = refresher.Find(name);
                long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                if (file.Size.HasValue && have > file.Size.Value) { File.Delete(partial); have = 0; }
                if (file.Size.HasValue && have == file.Size.Value && have > 0)
                {
                    return Finish(messageId, name, target, partial, file);
                }

                HttpResponseMessage response;
                try
                {
                    response = await _client.OpenDownloadAsync(file.Url, have, ct).ConfigureAwait(false);
                }
                catch (NenTransportException ex)
                {
                    last = ex;
                    continue;
                }
                using (response)
                {
                    int code = (int)response.StatusCode;
                    if (code == 403 || code == 410)
                    {
                        // Presigned URLs expire; the retrieval endpoint hands out fresh ones.
                        if (refreshes >= 2) throw new NenException(NenErrorIds.DownloadExpired, NenErrorCategory.PermissionDenied,
                            $"The download link for '{name}' of run {messageId} keeps being refused (HTTP {code}), even after fresh links were fetched.") { StatusCode = response.StatusCode };
                        refreshes++;
                        attempts--;
                        _log.Verbose($"{messageId}/{name}: link refused (HTTP {code}), fetching fresh links.");
                        await refresher.RefreshAsync(ct).ConfigureAwait(false);
                        continue;
                    }
                    if (code == 416) { File.Delete(partial); continue; }
                    if (code == 404)
                        throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"The result '{name}' of run {messageId} does not exist on the server (HTTP 404).") { StatusCode = response.StatusCode };
                    if (code != 200 && code != 206)
                    {
                        last = new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ResourceUnavailable, $"Downloading '{name}' of run {messageId} failed: HTTP {code}.") { StatusCode = response.StatusCode };
                        if (code >= 500 || code == 429 || code == 408) continue;
                        throw last;
                    }

                    bool append = code == 206 && response.Content.Headers.ContentRange?.From == have;
                    if (!append) have = 0;
                    long? announced = response.Content.Headers.ContentLength.HasValue ? have + response.Content.Headers.ContentLength.Value : (long?)null;
                    long limit = file.Size ?? announced ?? _options.MaxFileBytes;
                    if (limit > _options.MaxFileBytes || (announced.HasValue && announced.Value > limit))
                    {
                        throw new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                            $"The result '{name}' of run {messageId} is larger than expected ({announced ?? limit:N0} bytes; expected at most {Math.Min(limit, _options.MaxFileBytes):N0}). It was not saved.");
                    }
                    try
                    {
                        long written = await CopyAsync(response, partial, append, limit - have, ct).ConfigureAwait(false);
                        if (written < 0)
                        {
                            File.Delete(partial);
                            throw new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                                $"The result '{name}' of run {messageId} sent more than its announced {limit:N0} bytes. It was not saved.");
                        }
                        long total = have + written;
                        if (announced.HasValue && total < announced.Value)
                        {
                            last = Truncated(name, messageId, total, announced.Value);
                            continue; // resume from here
                        }
                    }
                    catch (Exception ex) when (ex is IOException || ex is HttpRequestException)
                    {
                        last = new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ConnectionError,
                            $"Downloading '{name}' of run {messageId} was interrupted: {ex.GetType().Name}.", ex) { IsTransient = true };
                        continue;
                    }
                    long length = new FileInfo(partial).Length;
                    if (file.Size.HasValue && length != file.Size.Value)
                    {
                        last = Truncated(name, messageId, length, file.Size.Value);
                        if (length > file.Size.Value) { File.Delete(partial); throw last; }
                        continue;
                    }
                    return Finish(messageId, name, target, partial, file);
                }
            }
            throw last ?? new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ResourceUnavailable, $"Downloading '{name}' of run {messageId} failed.");
        }

        private DownloadedFile Finish(string messageId, string name, string target, string partial, ResultFile file)
        {
            if (File.Exists(target)) File.Delete(target);
            File.Move(partial, target);
            long length = new FileInfo(target).Length;
            _log.Verbose($"{messageId}/{name}: saved {length:N0} bytes.");
            return new DownloadedFile(messageId, name, target, length, skipped: false);
        }

        private static NenException Truncated(string name, string messageId, long got, long expected) =>
            new NenException(NenErrorIds.DownloadSizeMismatch, NenErrorCategory.InvalidData,
                $"The result '{name}' of run {messageId} has {got:N0} bytes where {expected:N0} were announced.") { IsTransient = true };

        /// <summary>Copies at most <paramref name="maxBytes"/>; returns -1 when the body is longer.</summary>
        private static async Task<long> CopyAsync(HttpResponseMessage response, string path, bool append, long maxBytes, CancellationToken ct)
        {
            using Stream body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            using var output = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            byte[] buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes) return -1;
                await output.WriteAsync(buffer, 0, read, ct).ConfigureAwait(false);
            }
            return total;
        }

        /// <summary>Holds a run's latest links and fetches new ones when they expire.</summary>
        private sealed class UrlRefresher
        {
            private readonly NenApiClient _client;
            private RunStatus _status;

            public UrlRefresher(NenApiClient client, RunStatus status) { _client = client; _status = status; }

            public ResultFile Find(string name)
            {
                foreach (ResultFile f in _status.Results) if (f.Name == name) return f;
                throw new NenException(NenErrorIds.DownloadFailed, NenErrorCategory.ObjectNotFound, $"Run {_status.MessageId} no longer lists the result '{name}'.");
            }

            public async Task RefreshAsync(CancellationToken ct) => _status = await _client.GetRunAsync(_status.MessageId, ct).ConfigureAwait(false);
        }
    }
}
