# Spark Connect server: Apache Spark 4 with Delta Lake (delta-spark) and S3A for MinIO.
# The jars are fetched from Maven Central at build time (unreachable in the dev sandbox, which is
# why the embedded default is Sail; see ARCHITECTURE §2).
FROM apache/spark:4.2.0

USER root
ENV SPARK_NO_DAEMONIZE=true
RUN /opt/spark/bin/spark-submit --version
USER spark

EXPOSE 15002
CMD ["/opt/spark/sbin/start-connect-server.sh", \
     "--packages", "io.delta:delta-spark_2.13:4.4.1,org.apache.hadoop:hadoop-aws:3.4.1"]
