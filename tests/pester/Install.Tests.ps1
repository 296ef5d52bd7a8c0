#Requires -Version 7.4
# The package as PowerShell users install it: ./build.ps1 -Task Package's .nupkg, from a folder registered as a
# PSResourceGet repository, installed by name into a private $HOME, then used by name from a NEW pwsh process.

BeforeAll {
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $script:root 'NenAi.psd1')
    $script:version = $script:manifest.ModuleVersion
    $script:nupkg = Join-Path $script:root "out/packages/NenAi.$($script:version).nupkg"
    if (-not (Test-Path -LiteralPath $script:nupkg)) { throw "$script:nupkg is missing: run ./build.ps1 -Task Package first." }

    $realHome = [System.Environment]::GetFolderPath('UserProfile')
    $script:environment = @{
        HOME = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home')).FullName
        NUGET_PACKAGES = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $realHome '.nuget/packages' }
        DOTNET_CLI_HOME = $realHome
        PSModulePath = $null; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null
        NEN_BASE_URL = $null; NEN_API_KEY = $null; NEN_SIGNING_KEY = $null; NEN_WEBHOOK_SECRET = $null
    }
    $script:emulator = Start-EmulatorProcess
    $script:work = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'work')).FullName
}

AfterAll { Stop-EmulatorProcess $script:emulator }

Describe 'The package' {
    It 'carries the metadata a gallery shows' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($script:nupkg)
        try {
            $entry = $zip.Entries | Where-Object FullName -EQ 'NenAi.nuspec'
            $reader = [System.IO.StreamReader]::new($entry.Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
            $files = $zip.Entries.FullName
        }
        finally { $zip.Dispose() }
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'NenAi'
        $metadata.version | Should -Be $script:version
        $metadata.description | Should -Be $script:manifest.Description
        $metadata.releaseNotes | Should -Be $script:manifest.PrivateData.PSData.ReleaseNotes
        [uri]$metadata.projectUrl | Should -Be ([uri]$script:manifest.PrivateData.PSData.ProjectUri)
        [uri]$metadata.licenseUrl | Should -Be ([uri]$script:manifest.PrivateData.PSData.LicenseUri)
        foreach ($tag in @('PSModule') + $script:manifest.PrivateData.PSData.Tags) { $metadata.tags -split ' ' | Should -Contain $tag }
        $files | Should -Contain 'bin/net472/NenAi.dll'
        $files | Should -Contain 'bin/net8.0/NenAi.dll'
        $files | Should -Contain 'en-US/NenAi.dll-Help.xml'
        $files | Should -Contain 'LICENSE'
    }

    It 'comes as a zip whose top folder is NenAi' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path $script:root "out/NenAi.$($script:version).zip"))
        try { $names = $zip.Entries.FullName -replace '\\', '/' }
        finally { $zip.Dispose() }
        $names | Should -Contain 'NenAi/NenAi.psd1'
        $names | Where-Object { $_ -notlike 'NenAi/*' } | Should -BeNullOrEmpty
    }

    It 'installs by name and works from a new pwsh process: Import-Module, Get-Command, Get-Help, one run' {
        $install = Join-Path $script:work 'install.ps1'
        Set-Content -LiteralPath $install -Value @"
Register-PSResourceRepository -Name NenAiLocal -Uri '$(Split-Path $script:nupkg)' -Trusted
Install-PSResource -Name NenAi -Repository NenAiLocal
"@
        $firstRun = Join-Path $script:work 'first-run.ps1'
        Set-Content -LiteralPath $firstRun -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module NenAi
(Get-Module NenAi).ModuleBase
(Get-Command -Module NenAi).Name -join ','
(Get-Help Start-NenRun -Full).Examples.Example.Count
`$env:NEN_BASE_URL = '$($script:emulator.BaseUri)'
`$env:NEN_API_KEY = 'nen-demo-api-key'
`$env:NEN_SIGNING_KEY = 'nen-demo-signing-key'
[pscustomobject]@{ CUSTOMER_NAME = 'Ada Lovelace'; AMOUNT = 12.5 } |
    Start-NenRun -WorkflowId '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21' |
    Wait-NenRun -PollIntervalSec 1 |
    Get-NenRunResult -Destination ./results |
    ForEach-Object { 'saved ' + `$_.Name }
"@
        $installed = Invoke-FreshPwsh -File $install -WorkingDirectory $script:work -Environment $script:environment
        $installed.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($installed.Output)$($installed.Errors)")
        $installed.Errors | Should -BeNullOrEmpty

        $used = Invoke-FreshPwsh -File $firstRun -WorkingDirectory $script:work -Environment $script:environment
        Write-Host "  install: $([math]::Round($installed.Elapsed.TotalSeconds, 1)) s; import, help and the first run in a new process: $([math]::Round($used.Elapsed.TotalSeconds, 1)) s"
        $used.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($used.Output)$($used.Errors)")
        $used.Errors | Should -BeNullOrEmpty
        $lines = $used.Output -split "`r?`n" | Where-Object { $_ }
        $lines[0] | Should -BeLike (Join-Path $script:environment.HOME '*')   # the installed copy, not the repository's
        $lines[1] -split ',' | Should -Contain 'Start-NenRun'
        [int]$lines[2] | Should -BeGreaterOrEqual 3
        $lines | Should -Contain 'saved invoice.txt'
        $lines | Should -Contain 'saved assets.zip'
    }

    It 'installs for every account (-Scope AllUsers) and imports by name for another account, its own HOME' {
        # A scheduled task runs as SYSTEM or a gMSA, not as whoever installed: the module must be in the all-users
        # path. On Linux that is /usr/local/share/powershell/Modules, shared by the machine: here it is a folder of
        # the test's own, bound over /usr/local/share in a mount namespace of each process (unshare), so the real
        # machine's is never touched. Two HOMEs stand for the two accounts.
        if (-not $IsLinux -or (& id -u) -ne '0' -or -not (Get-Command unshare -CommandType Application -ErrorAction Ignore)) {
            Set-ItResult -Skipped -Because 'it binds a folder over /usr/local/share in a mount namespace: Linux, as root, with unshare'
            return
        }
        $share = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'usr-local-share')).FullName
        $wrapper = @('unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /usr/local/share && exec "$@"', $share)
        $admin = $script:environment.Clone()
        $admin.HOME = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home-admin')).FullName
        $account = $script:environment.Clone()
        $account.HOME = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home-task-account')).FullName
        $install = Join-Path $script:work 'install-allusers.ps1'
        Set-Content -LiteralPath $install -Value @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name NenAiLocal -Uri '$(Split-Path $script:nupkg)' -Trusted
Install-PSResource -Name NenAi -Repository NenAiLocal -Scope AllUsers
(Get-InstalledPSResource -Name NenAi -Scope AllUsers).InstalledLocation
"@
        $use = Join-Path $script:work 'use-as-another-account.ps1'
        Set-Content -LiteralPath $use -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module NenAi
'base ' + (Get-Module NenAi).ModuleBase
`$env:NEN_BASE_URL = '$($script:emulator.BaseUri)'
`$env:NEN_API_KEY = 'nen-demo-api-key'
`$env:NEN_SIGNING_KEY = 'nen-demo-signing-key'
[pscustomobject]@{ CUSTOMER_NAME = 'Grace Hopper' } | Start-NenRun -WorkflowId '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21' |
    Wait-NenRun -PollIntervalSec 1 | Get-NenRunResult -Destination ./allusers-results | ForEach-Object { 'saved ' + `$_.Name }
"@

        $installed = Invoke-FreshPwsh -File $install -WorkingDirectory $script:work -Environment $admin -Wrapper $wrapper
        $installed.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($installed.Output)$($installed.Errors)")
        $installed.Errors | Should -BeNullOrEmpty
        Test-Path -LiteralPath (Join-Path $share "powershell/Modules/NenAi/$($script:version)/NenAi.psd1") | Should -BeTrue -Because 'AllUsers is /usr/local/share/powershell/Modules'
        Test-Path -LiteralPath (Join-Path $admin.HOME '.local/share/powershell/Modules/NenAi') | Should -BeFalse -Because 'nothing went to the installing account''s own modules'
        Test-Path -LiteralPath '/usr/local/share/powershell/Modules/NenAi' | Should -BeFalse -Because 'the machine''s own all-users folder is never touched'

        $used = Invoke-FreshPwsh -File $use -WorkingDirectory $script:work -Environment $account -Wrapper $wrapper
        $used.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($used.Output)$($used.Errors)")
        $used.Errors | Should -BeNullOrEmpty
        $lines = $used.Output -split "`r?`n" | Where-Object { $_ }
        $lines | Should -Contain "base /usr/local/share/powershell/Modules/NenAi/$($script:version)"
        $lines | Should -Contain 'saved invoice.txt'
        Test-Path -LiteralPath (Join-Path $account.HOME '.local/share/powershell/Modules/NenAi') | Should -BeFalse
    }
}
