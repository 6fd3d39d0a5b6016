"""A single-node Apache Kafka broker in KRaft mode, from the official jars on Maven Central.

The pinned ``kafka-broker.pom.xml`` beside this file is fed to the machine's Maven, which
copies the broker's jars into a cache outside the repository; the broker then runs as
``java kafka.Kafka server.properties`` with Java 17, bound to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from deploy.local.processes import LaunchError, ManagedProcess

HERE = Path(__file__).resolve().parent
POM = HERE / "kafka-broker.pom.xml"
LOG4J_CONFIG = HERE / "kafka-log4j2.xml"
MIN_JAVA = 17


class MissingTool(LaunchError):
    """Java or Maven is not installed; the message says which and how to get it."""


def find_java() -> str:
    """Path of a Java 17+ executable, or a clear MissingTool error."""
    java = shutil.which("java")
    if java is None:
        raise MissingTool(
            "Java 17 or newer is needed to run the local Kafka broker and was not found on PATH "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if match is None or int(match.group(1)) < MIN_JAVA:
        raise MissingTool(
            f"the local Kafka broker needs Java {MIN_JAVA}+, {java} says: "
            f"{out.splitlines()[0] if out else 'nothing'}"
        )
    return java


def find_maven() -> str:
    """Path of the ``mvn`` executable, or a clear MissingTool error."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingTool(
            "Maven is needed once to fetch the Kafka broker's jars from Maven Central and was "
            "not found on PATH (Debian: apt-get install maven)"
        )
    return mvn


def resolve_jars(cache_dir: Path) -> Path:
    """Directory holding the broker's jars, resolved with Maven on first use.

    The directory is keyed by the pom's hash; a ``.complete`` marker is written last so that an
    interrupted download is retried, not used half-done.
    """
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    libs = cache_dir / f"kafka-broker-{digest}" / "libs"
    if (libs / ".complete").exists():
        return libs
    mvn = find_maven()
    if libs.exists():
        shutil.rmtree(libs)
    libs.mkdir(parents=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LaunchError(
            "Maven could not resolve the Kafka broker's jars from "
            f"{POM}:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    (libs / ".complete").write_text(digest)
    return libs


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass(frozen=True)
class KafkaBroker:
    """The local broker: its ports, data under ``state_dir/kafka``, jars under ``cache_dir``."""

    state_dir: Path
    cache_dir: Path
    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    # Users a second listener (SASL_PLAINTEXT on ``sasl_port``) authenticates with PLAIN or
    # SCRAM-SHA-256/512: how the tests prove the clients' SASL settings on a real broker.
    sasl_users: tuple[tuple[str, str], ...] = ()
    sasl_port: int = 0
    # A PEM file holding the listener's private key and certificate: the SASL listener then
    # speaks TLS (SASL_SSL) instead of SASL_PLAINTEXT.
    tls_pem: Path | None = None

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("kafka", self.state_dir)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "kafka" / "data"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "kafka" / "server.properties"

    @property
    def sasl_bootstrap(self) -> str:
        return f"{self.host}:{self.sasl_port}"

    def _sasl_properties(self) -> list[str]:
        if not self.sasl_users:
            return []
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.sasl_users)
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        tls = (
            [
                "listener.name.secure.ssl.keystore.type=PEM",
                f"listener.name.secure.ssl.keystore.location={self.tls_pem}",
            ]
            if self.tls_pem
            else []
        )
        return [
            "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            "listener.name.secure.plain.sasl.jaas.config="
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};",
            f"listener.name.secure.scram-sha-256.sasl.jaas.config={scram}",
            f"listener.name.secure.scram-sha-512.sasl.jaas.config={scram}",
            *tls,
        ]

    def _scram_credentials(self) -> list[str]:
        """``--add-scram`` arguments: KRaft stores SCRAM users in its metadata from format on."""
        return [
            f"--add-scram={mechanism}=[name={name},password={password}]"
            for name, password in self.sasl_users
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
        ]

    def server_properties(self) -> str:
        """The broker's configuration: combined broker+controller, loopback only."""
        sasl = bool(self.sasl_users)
        listeners = f"PLAINTEXT://{self.host}:{self.port}"
        if sasl:
            listeners += f",SECURE://{self.host}:{self.sasl_port}"
        secure = "SASL_SSL" if self.tls_pem else "SASL_PLAINTEXT"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={self.host}:{self.controller_port}",
                f"listeners={listeners},CONTROLLER://{self.host}:{self.controller_port}",
                f"advertised.listeners={listeners}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                + (f",SECURE:{secure}" if sasl else ""),
                *self._sasl_properties(),
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.data_dir}",
                # One node: internal topics cannot be replicated further.
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                # Topics are created explicitly by the project (streams/kafka/admin.py), never by a
                # typo in a producer.
                "auto.create.topics.enable=false",
                # Tests and the demo start consumers right away; no point waiting for more members.
                "group.initial.rebalance.delay.ms=0",
                "",
            ]
        )

    def start(self, *, timeout: float = 90.0) -> None:
        """Resolve jars, format storage on first start, launch, and wait until it answers."""
        from streams.kafka.admin import broker_answers

        java = find_java()
        libs = resolve_jars(self.cache_dir)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.server_properties())
        classpath = f"{libs}/*"
        if not (self.data_dir / "meta.properties").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fmt = subprocess.run(
                [
                    java,
                    "-cp",
                    classpath,
                    f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    # "=" form: a random id may start with "-" and read as an option.
                    f"--cluster-id={new_cluster_id()}",
                    f"--config={self.config_path}",
                    *self._scram_credentials(),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise LaunchError(
                    f"formatting Kafka storage in {self.data_dir} failed:\n{fmt.stdout}{fmt.stderr}"
                )
        self.process.start(
            [
                java,
                f"-Xmx{self.heap}",
                f"-Xms{self.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(self.config_path),
            ]
        )
        self.process.wait_until(
            lambda: broker_answers(self.bootstrap, timeout=2.0),
            timeout=timeout,
            what=f"answering on {self.bootstrap}",
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """Controlled shutdown (SIGTERM), SIGKILL only if it hangs past ``timeout``."""
        return self.process.stop(timeout=timeout)
