# Spark Connect server: Apache Spark 4 with Delta Lake (delta-spark) and S3A for MinIO.
# The jars are downloaded from Maven Central when the image is BUILT, never when the container
# starts, and each is checked against docker/spark-jars.sha256 (sha256sum format): the build fails
# on a missing or different checksum. NOT BUILT OR RUN BY THE TESTS: Maven Central is unreachable
# from the development sandbox, so the versions below and the checksums are unverified there and
# docker/spark-jars.sha256 ships without checksum lines; record them once on a trusted machine
# (README, "Running on a cluster") before the first build.
FROM apache/spark:4.2.0

ARG MAVEN=https://repo1.maven.org/maven2
ARG DELTA_VERSION=4.4.1
ARG HADOOP_AWS_VERSION=3.4.1
ARG AWS_SDK_VERSION=2.24.6

USER root
COPY spark-jars.sha256 /tmp/spark-jars.sha256
RUN set -eu; cd /opt/spark/jars; \
    for path in \
      "io/delta/delta-spark_2.13/${DELTA_VERSION}/delta-spark_2.13-${DELTA_VERSION}.jar" \
      "io/delta/delta-storage/${DELTA_VERSION}/delta-storage-${DELTA_VERSION}.jar" \
      "org/apache/hadoop/hadoop-aws/${HADOOP_AWS_VERSION}/hadoop-aws-${HADOOP_AWS_VERSION}.jar" \
      "software/amazon/awssdk/bundle/${AWS_SDK_VERSION}/bundle-${AWS_SDK_VERSION}.jar"; do \
      wget -q "${MAVEN}/${path}"; \
    done; \
    grep -v '^#' /tmp/spark-jars.sha256 | sha256sum --check --strict -; \
    chmod 644 delta-*.jar hadoop-aws-*.jar bundle-*.jar; rm /tmp/spark-jars.sha256
ENV SPARK_NO_DAEMONIZE=true
USER spark

EXPOSE 15002
CMD ["/opt/spark/sbin/start-connect-server.sh"]
