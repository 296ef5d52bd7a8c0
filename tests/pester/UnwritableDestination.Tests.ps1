#Requires -Version 7.4
# A -Destination that no run's files can be written to, as a user meets it in real pwsh, against the emulator (its own
# process) and against tests/fakes/fake_nen.py: one error that stops Get-NenRunResult and names the destination, every
# run counted NotDownloaded (none "failed"), no file fetched, nothing left behind. (Acceptance: 300 runs piped to
# Get-NenRunResult -Destination on a read-only file system gave 300 NenDownloadFailed errors, "300 runs, 0 files, 300
# failed"; a folder without write permission and a 300-character folder name, one error per run likewise.)
#
# These tests run as root, and root ignores permission bits (it writes into a folder of mode 0555), so each case makes
# the refusal real for the pwsh it starts: read-only, a read-only bind mount of the destination in a mount namespace of
# that pwsh's own (unshare; the machine's mounts are never touched); no write permission, that pwsh without the
# capability that lets root ignore permissions (setpriv drops CAP_DAC_OVERRIDE from its bounding set) on a folder of
# mode 0555.

BeforeDiscovery {
    $script:servers = @(@{ Kind = 'emulator' }, @{ Kind = 'fake' })
}

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:workflow = '11111111-1111-1111-1111-111111111111'   # both servers' echo

    $script:asRoot = $IsLinux -and (& id -u) -eq '0'
    $script:canUnshare = $script:asRoot -and [bool](Get-Command unshare -CommandType Application -ErrorAction Ignore)
    $script:canSetpriv = $script:asRoot -and [bool](Get-Command setpriv -CommandType Application -ErrorAction Ignore)

    # Starts <Count> runs, waits for them, pipes them to Get-NenRunResult -Destination <Destination>, and prints as JSON
    # every error record it wrote (each once), its summary's outcomes, and what the destination holds afterwards.
    $script:child = Join-Path $TestDrive 'get-results.ps1'
    Set-Content -LiteralPath $script:child -Encoding utf8NoBOM -Value @"
param([string] `$Destination, [int] `$Count)
`$ErrorActionPreference = 'Continue'
Import-Module '$(Join-Path $script:root 'NenAi.psd1')'
`$c = @{ NoProgress = `$true }
`$runs = 1..`$Count | ForEach-Object { [pscustomobject]@{ NAME = "row `$_" } } | Start-NenRun @c -WorkflowId '$script:workflow' | Wait-NenRun @c -PollIntervalSec 0.2 -TimeoutSec 120
`$caught = `$null
try { `$runs | Get-NenRunResult @c -Destination `$Destination -SummaryVariable s -ErrorVariable +errs | Out-Null } catch { `$caught = `$_ }
`$records = [System.Collections.Generic.List[object]]::new()
foreach (`$e in @(`$errs) + @(`$caught)) {
    if (`$null -eq `$e) { continue }
    if (`$e -is [System.Management.Automation.IContainsErrorRecord]) { `$e = `$e.ErrorRecord }
    if (-not (`$records | Where-Object { [object]::ReferenceEquals(`$_.Exception, `$e.Exception) -or [object]::ReferenceEquals(`$_.Exception, `$e.Exception.InnerException) })) { `$records.Add(`$e) }
}
[pscustomobject]@{
    Started  = @(`$runs).Count
    Errors   = @(`$records | ForEach-Object { [pscustomobject]@{ Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Target = "`$(`$_.TargetObject)"; Message = `$_.Exception.Message } })
    Outcomes = `$s.Outcomes
    Stopped  = `$s.Stopped
    Left     = @(if ([System.IO.Directory]::Exists(`$Destination)) { Get-ChildItem -LiteralPath `$Destination -Force -Recurse | ForEach-Object Name })
} | ConvertTo-Json -Depth 4 -Compress
"@
}

Describe 'A -Destination no run''s files can be written to, against the <Kind>' -ForEach $servers {
    BeforeAll {
        if ($Kind -eq 'emulator') {
            $script:server = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
            $script:environment = @{ NEN_BASE_URL = $script:server.BaseUri; NEN_API_KEY = 'pester-api-key'; NEN_SIGNING_KEY = 'pester-signing-key' }
        }
        else {
            $script:server = Start-FakeNen
            $script:environment = @{ NEN_BASE_URL = $script:server.BaseUri; NEN_API_KEY = $script:server.ApiKeyText; NEN_SIGNING_KEY = $null }
        }

        function Get-Downloads {
            if ($Kind -eq 'emulator') { (Get-EmulatorLedger $script:server.BaseUri).requests.downloads } else { (Get-FakeNenLedger $script:server).requests.files }
        }

        # The child script under <Wrapper>, for <Count> runs; what it printed, with the downloads it made.
        function Invoke-GetResults([string] $Destination, [int] $Count, [string[]] $Wrapper = @()) {
            $before = Get-Downloads
            $run = Invoke-FreshPwsh -File $script:child -ArgumentList $Destination, $Count -WorkingDirectory $TestDrive -Environment $script:environment -Wrapper $Wrapper
            $run.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($run.Output)$($run.Errors)")
            $result = (Remove-Ansi $run.Output).Trim() -split "`r?`n" | Select-Object -Last 1 | ConvertFrom-Json
            $result | Add-Member Downloads ((Get-Downloads) - $before)
            $shown = $result.Errors | ForEach-Object { "$($_.Id) [$($_.Category)]: $($_.Message)" }
            Write-Host "  unwritable destination ($Kind): $($result.Started) runs, $($result.Downloads) downloads, $(@($result.Errors).Count) error(s): $shown"
            $result
        }

        # One error that stopped the command and names the destination; every run read is not downloaded, none failed.
        function Assert-OneStop($Result, [string] $Destination, [string] $Id, [string] $Category) {
            $error1 = @($Result.Errors)
            $error1 | Should -HaveCount 1 -Because 'a failure every run would meet is one error, not one per run'
            $error1[0].Id | Should -Be "$Id,NenAi.Commands.GetNenRunResultCommand"
            $error1[0].Category | Should -Be $Category
            $error1[0].Target | Should -Be $Destination
            $error1[0].Message | Should -BeLike "*-Destination '$(if ($Destination.Length -le 120) { $Destination + "'" } else { $Destination.Substring(0, 58) + '...' })*"
            $Result.Stopped | Should -BeTrue
            $Result.Outcomes.Runs | Should -BeGreaterThan 0
            $Result.Outcomes.NotDownloaded | Should -Be $Result.Outcomes.Runs -Because 'every run is counted not downloaded'
            $Result.Outcomes.Failed | Should -Be 0 -Because 'never "failed" unless the service said so'
            $Result.Outcomes.Files | Should -Be 0
            $Result.Downloads | Should -Be 0 -Because 'nothing is fetched for a destination that cannot take it'
            @($Result.Left) | Should -BeNullOrEmpty -Because 'the check leaves nothing in the destination'
        }
    }

    AfterAll {
        if ($Kind -eq 'emulator') { Stop-EmulatorProcess $script:server } else { Stop-FakeNen $script:server }
    }

    It 'a read-only file system: 300 runs piped to it end with one NenDestinationNotWritable WriteError' {
        if (-not $script:canUnshare) { Set-ItResult -Skipped -Because 'it binds the destination read-only in a mount namespace: Linux, as root, with unshare'; return }
        $destination = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "ro-$Kind")).FullName
        $readOnly = @('unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', $destination)

        $result = Invoke-GetResults $destination 300 $readOnly

        $result.Started | Should -Be 300
        Assert-OneStop $result $destination 'NenDestinationNotWritable' 'WriteError'
        $result.Errors[0].Message | Should -Match 'read-only file system'
    }

    It 'a folder this account may not write to: one NenDestinationNotWritable PermissionDenied' {
        if (-not $script:canSetpriv) { Set-ItResult -Skipped -Because 'it runs pwsh as root without CAP_DAC_OVERRIDE (setpriv): Linux, as root'; return }
        $destination = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "denied-$Kind")).FullName
        & chmod 0555 $destination
        $withoutOverride = @('setpriv', '--bounding-set=-dac_override,-dac_read_search')

        $result = Invoke-GetResults $destination 20 $withoutOverride

        Assert-OneStop $result $destination 'NenDestinationNotWritable' 'PermissionDenied'
        $result.Errors[0].Message | Should -Match 'may not create folders in it'
    }

    It 'a 300-character folder name: one NenPathTooLong LimitsExceeded, and nothing is made' {
        $destination = Join-Path $TestDrive ('d' * 300)

        $result = Invoke-GetResults $destination 20

        Assert-OneStop $result $destination 'NenPathTooLong' 'LimitsExceeded'
        [System.IO.Directory]::Exists($destination) | Should -BeFalse
    }
}
